import Foundation
import MoonlabTensor
import XCTest

final class AtomicFileTests: XCTestCase {
  func testWriteReplacesWholeFileAndLeavesNoTemporaries() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "atomic-\(UUID().uuidString)/sub")
    let file = dir.appendingPathComponent("a.txt")
    try AtomicFile.write("first", to: file)
    try AtomicFile.write("second", to: file)
    XCTAssertEqual(try String(contentsOf: file, encoding: .utf8), "second")
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["a.txt"])
  }

  func testUnwritableLocationThrows() throws {
    XCTAssertThrowsError(try AtomicFile.write("x", to: URL(fileURLWithPath: "/proc/nope/a.txt"))) {
      XCTAssertEqual("\($0)", "can't create the folder /proc/nope: No such file or directory")
    }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "atomic-\(UUID().uuidString)")
    let file = dir.appendingPathComponent("file")
    try AtomicFile.write("x", to: file)
    XCTAssertThrowsError(try AtomicFile.write("y", to: file.appendingPathComponent("sub/a.txt"))) {
      XCTAssertEqual(
        "\($0)", "can't create the folder \(file.path)/sub: \(file.path) is not a folder")
    }
  }

  /// A symbolic link, a folder or a FIFO at the target is refused, and left as it was:
  /// replacing it would not write through it (the /dev/stdout case).
  func testRefusesToReplaceWhatIsNotARegularFile() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "atomic-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let target = dir.appendingPathComponent("target.txt")
    try AtomicFile.write("keep", to: target)
    let link = dir.appendingPathComponent("link.txt")
    try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
    let folder = dir.appendingPathComponent("folder")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
    let fifo = dir.appendingPathComponent("fifo")
    XCTAssertEqual(mkfifo(fifo.path, 0o600), 0)
    for (url, kind) in [
      (link, "a symbolic link"), (folder, "a folder"), (fifo, "not a regular file"),
    ] {
      XCTAssertThrowsError(try AtomicFile.write("new", to: url)) {
        XCTAssertEqual(
          "\($0)",
          "refusing to replace \(url.path): it is \(kind) (write to a regular file or a new path)")
      }
    }
    var info = stat()
    XCTAssertEqual(lstat(link.path, &info), 0)
    XCTAssertEqual(info.st_mode & S_IFMT, S_IFLNK, "the link is still a link")
    XCTAssertEqual(try String(contentsOf: target, encoding: .utf8), "keep")
    XCTAssertEqual(
      Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)),
      ["target.txt", "link.txt", "folder", "fifo"], "no temporary left behind")
  }
}
