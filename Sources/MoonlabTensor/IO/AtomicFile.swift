import Foundation

/// Writes files so that a reader (or a run killed with SIGKILL) sees either the old file
/// or the whole new one: temp file in the same folder, fsync, rename (docs/architecture.md,
/// "Files").
///
/// Only a regular file or a new path is ever replaced. A rename over a symbolic link,
/// a device or a folder would not write *through* it but replace it: `-o /dev/stdout`
/// run as root used to turn /dev/stdout into a regular file.
public enum AtomicFile {
  /// What a write waits for before it returns. A killed process leaves the old file or the
  /// whole new one in every case; they differ in what a machine that loses power keeps.
  public enum Sync {
    /// fsync the file, then its folder: the new file is there after a power loss.
    case fileAndFolder
    /// fsync the file only: after a power loss the name holds the old file or the whole
    /// new one; the rename becomes durable with the folder's next sync (a later
    /// `.fileAndFolder` write in it, such as a run's DONE).
    case file
    /// No fsync: for files rendered from others, which `moonlab report` renders again.
    case none
  }

  public static func write(_ data: Data, to url: URL, sync: Sync = .fileAndFolder) throws {
    try refuseNonRegular(url)
    let dir = url.deletingLastPathComponent()
    try Folder.create(dir)
    let tmp = dir.appendingPathComponent(
      ".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    // O_EXCL | O_NOFOLLOW: never write through something planted at the temporary name.
    let fd = open(tmp.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644)
    guard fd >= 0 else {
      throw TensorError("can't write \(url.path): \(String(cString: strerror(errno)))")
    }
    var ok = true
    data.withUnsafeBytes { buf in
      var offset = 0
      while offset < buf.count {
        let n = Foundation.write(fd, buf.baseAddress! + offset, buf.count - offset)
        if n <= 0 {
          ok = false
          break
        }
        offset += n
      }
    }
    ok = ok && (sync == .none || fsync(fd) == 0)
    close(fd)
    guard ok, rename(tmp.path, url.path) == 0 else {
      let reason = String(cString: strerror(errno))
      unlink(tmp.path)
      throw TensorError("can't write \(url.path): \(reason)")
    }
    // Make the rename itself durable.
    if sync == .fileAndFolder { syncFolder(dir) }
  }

  /// Makes the renames done in `dir` so far durable (fsync of the folder).
  public static func syncFolder(_ dir: URL) {
    let dfd = open(dir.path, O_RDONLY)
    if dfd >= 0 {
      fsync(dfd)
      close(dfd)
    }
  }

  public static func write(_ text: String, to url: URL, sync: Sync = .fileAndFolder) throws {
    try write(Data(text.utf8), to: url, sync: sync)
  }

  /// Throws unless `url` names nothing yet or a regular file (checked without following a
  /// final symbolic link).
  static func refuseNonRegular(_ url: URL) throws {
    var info = stat()
    guard lstat(url.path, &info) == 0 else { return }  // a new path
    let kind: String
    switch info.st_mode & S_IFMT {
    case S_IFREG: return
    case S_IFLNK: kind = "a symbolic link"
    case S_IFDIR: kind = "a folder"
    case S_IFCHR, S_IFBLK: kind = "a device"
    default: kind = "not a regular file"
    }
    throw TensorError(
      "refusing to replace \(url.path): it is \(kind) (write to a regular file or a new path)")
  }
}
