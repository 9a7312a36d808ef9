import Foundation

/// A reader for ustar/GNU tar archives, enough for the datasets' archives: regular files
/// with their paths. Paths are checked (no absolute paths, no "..") so a hostile archive
/// is refused rather than written outside the target folder; links and special files are
/// skipped.
enum Tar {
  struct Entry {
    let path: String
    let contents: Data
  }

  static func entries(_ archive: Data, what: String) throws -> [Entry] {
    var out: [Entry] = []
    var offset = archive.startIndex
    var longName: String?
    while offset + 512 <= archive.endIndex {
      let header = archive[offset..<(offset + 512)]
      if header.allSatisfy({ $0 == 0 }) { return out }  // end-of-archive marker
      try checksum(header, what: what)
      let size = try octal(header, 124, 12, what: what)
      let type = header[header.startIndex + 156]
      let start = offset + 512
      guard size <= archive.endIndex - start else {
        throw DataError("\(what): tar entry runs past the end (truncated)")
      }
      let contents = archive[start..<(start + size)]
      offset = start + (size + 511) / 512 * 512
      var name = longName ?? string(header, 0, 100)
      longName = nil
      let prefix = string(header, 345, 155)
      if !prefix.isEmpty && string(header, 257, 6).hasPrefix("ustar")
        && name == string(header, 0, 100)
      {
        name = prefix + "/" + name
      }
      switch type {
      case UInt8(ascii: "L"):  // GNU long name: the next entry's path
        longName = String(decoding: contents.prefix { $0 != 0 }, as: UTF8.self)
      case UInt8(ascii: "0"), 0:
        try checkPath(name, what: what)
        out.append(Entry(path: name, contents: Data(contents)))
      default:
        continue  // directories, links, pax headers: nothing to extract
      }
    }
    throw DataError("\(what): tar archive ends without its end marker (truncated)")
  }

  static func checkPath(_ path: String, what: String) throws {
    let parts = path.split(separator: "/", omittingEmptySubsequences: false)
    guard !path.hasPrefix("/"), !parts.contains(".."), !path.contains("\0") else {
      throw DataError("\(what): refusing tar entry with unsafe path '\(path)'")
    }
  }

  static func string(_ header: Data, _ at: Int, _ length: Int) -> String {
    let field = header[(header.startIndex + at)..<(header.startIndex + at + length)]
    return String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
  }

  static func octal(_ header: Data, _ at: Int, _ length: Int, what: String) throws -> Int {
    let text = string(header, at, length).trimmingCharacters(in: .whitespaces)
    guard let v = Int(text.isEmpty ? "0" : text, radix: 8), v >= 0 else {
      throw DataError("\(what): bad number '\(text)' in a tar header")
    }
    return v
  }

  /// The header checksum: the byte sum with the checksum field read as spaces.
  static func checksum(_ header: Data, what: String) throws {
    let stored = try octal(header, 148, 8, what: what)
    var sum = 0
    for (i, b) in header.enumerated() { sum += (148..<156).contains(i) ? 32 : Int(b) }
    guard sum == stored else {
      throw DataError("\(what): tar header checksum mismatch (corrupt archive)")
    }
  }
}
