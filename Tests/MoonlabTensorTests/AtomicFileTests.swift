import Foundation
import MoonlabTensor
import XCTest

final class AtomicFileTests: XCTestCase {
  func testWriteReplacesWholeFileAndLeavesNoTemporaries() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-\(UUID().uuidString)/sub")
    let file = dir.appendingPathComponent("a.txt")
    try AtomicFile.write("first", to: file)
    try AtomicFile.write("second", to: file)
    XCTAssertEqual(try String(contentsOf: file, encoding: .utf8), "second")
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["a.txt"])
  }

  func testUnwritableLocationThrows() {
    XCTAssertThrowsError(try AtomicFile.write("x", to: URL(fileURLWithPath: "/proc/nope/a.txt")))
  }
}
