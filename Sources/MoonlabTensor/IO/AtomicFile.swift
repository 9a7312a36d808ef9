import Foundation

/// Writes files so that a reader (or a run killed with SIGKILL) sees either the old file
/// or the whole new one: temp file in the same folder, fsync, rename (design.md §3).
public enum AtomicFile {
  public static func write(_ data: Data, to url: URL) throws {
    let dir = url.deletingLastPathComponent()
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    let fd = open(tmp.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw TensorError("can't write \(url.path): \(String(cString: strerror(errno)))") }
    var ok = true
    data.withUnsafeBytes { buf in
      var offset = 0
      while offset < buf.count {
        let n = Foundation.write(fd, buf.baseAddress! + offset, buf.count - offset)
        if n <= 0 { ok = false; break }
        offset += n
      }
    }
    ok = ok && fsync(fd) == 0
    close(fd)
    guard ok, rename(tmp.path, url.path) == 0 else {
      let reason = String(cString: strerror(errno))
      unlink(tmp.path)
      throw TensorError("can't write \(url.path): \(reason)")
    }
    // Make the rename itself durable.
    let dfd = open(dir.path, O_RDONLY)
    if dfd >= 0 { fsync(dfd); close(dfd) }
  }

  public static func write(_ text: String, to url: URL) throws {
    try write(Data(text.utf8), to: url)
  }
}
