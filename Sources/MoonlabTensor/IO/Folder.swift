import Foundation

/// Folder creation with errors in words ("can't create the folder /proc/x: No such file or
/// directory"): Foundation's own read "Error Domain=NSCocoaErrorDomain Code=4 …".
public enum Folder {
  /// Makes `url` and its missing parents, like `mkdir -p`; an existing folder is fine.
  public static func create(_ url: URL) throws {
    var path = url.standardizedFileURL.path.hasPrefix("/") ? "" : "."
    for part in url.standardizedFileURL.path.split(separator: "/") {
      path += "/" + part
      var info = stat()
      if stat(path, &info) == 0 {
        guard info.st_mode & S_IFMT == S_IFDIR else {
          throw TensorError("can't create the folder \(url.path): \(path) is not a folder")
        }
        continue
      }
      if mkdir(path, 0o755) != 0 && errno != EEXIST {
        throw TensorError(
          "can't create the folder \(url.path): \(String(cString: strerror(errno)))")
      }
    }
  }

  /// A new empty folder PREFIX-XXXXXX under $TMPDIR (or /tmp) that only this user can read.
  public static func temporary(_ prefix: String) throws -> URL {
    let root =
      ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    var template = Array("\(root)/\(prefix)-XXXXXX".utf8CString)
    guard mkdtemp(&template) != nil else {
      throw TensorError(
        "can't create a temporary folder in \(root): \(String(cString: strerror(errno)))")
    }
    return URL(fileURLWithPath: String(cString: template))
  }
}
