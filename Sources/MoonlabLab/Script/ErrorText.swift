/// Shortens what a runaway recursion makes of an error message: each nesting level adds its
/// own prefix ("net.lua:1: in module 1 (M) of Sequential: "), so a stack overflow used to
/// print 100–240 KB of the same text. In the message (the traceback is Lua's, already cut
/// to its first and last levels) a run of three or more copies of one prefix keeps the
/// first and the last copy, with the count between them.
enum ErrorText {
  static func condense(_ message: String) -> String {
    let split = message.range(of: "\nstack traceback:")
    let head = split.map { String(message[..<$0.lowerBound]) } ?? message
    var bytes = Array(head.utf8)
    var start = 0
    while start < bytes.count {
      if let (length, copies) = repetition(in: bytes, at: start) {
        let note = Array("[… \(copies - 2) more times …] ".utf8)
        let lastCopy = start + (copies - 1) * length
        bytes.replaceSubrange(start + length..<lastCopy, with: note)
        start += 2 * length + note.count
      } else {
        start += 1
      }
    }
    return String(decoding: bytes, as: UTF8.self)
      + (split.map { String(message[$0.lowerBound...]) } ?? "")
  }

  /// The shortest prefix-shaped piece (starting after ": ", ending with ": ", 8–512 bytes)
  /// at `start` that repeats at least three times back to back, with its number of copies.
  private static func repetition(in b: [UInt8], at start: Int) -> (length: Int, copies: Int)? {
    let colon = UInt8(ascii: ":")
    let space = UInt8(ascii: " ")
    guard start == 0 || (start >= 2 && b[start - 2] == colon && b[start - 1] == space) else {
      return nil
    }
    for length in 8...512 where start + 3 * length <= b.count {
      guard b[start + length - 2] == colon, b[start + length - 1] == space else { continue }
      func same(_ k: Int) -> Bool {
        let other = start + k * length
        guard other + length <= b.count else { return false }
        for i in 0..<length where b[start + i] != b[other + i] { return false }
        return true
      }
      guard same(1), same(2) else { continue }
      var copies = 3
      while same(copies) { copies += 1 }
      return (length, copies)
    }
    return nil
  }
}
