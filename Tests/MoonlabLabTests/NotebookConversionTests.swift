import Foundation
import MoonlabLua
import TestSupport
import XCTest

@testable import MoonlabLab

/// `moonlab notebook --to-ipynb / --from-ipynb` never overwrite their own input.
final class NotebookConversionTests: XCTestCase {
  func testConversionRefusesToReplaceItsInput() throws {
    guard FileManager.default.isExecutableFile(atPath: TestPaths.moonlab.path) else {
      throw XCTSkip("build the moonlab product first (swift build): \(TestPaths.moonlab.path)")
    }
    let dir = try TestPaths.temporaryDirectory()
    let script = dir.appendingPathComponent("nb.lua")
    let source = "--%%\nprint(1)\n"
    try source.write(to: script, atomically: true, encoding: .utf8)
    let alias = dir.appendingPathComponent("alias.lua")
    try FileManager.default.linkItem(at: script, to: alias)  // a hard link: the same file
    for (flag, output) in [("--to-ipynb", script), ("--to-ipynb", alias), ("--from-ipynb", script)]
    {
      let r = try runProcess(TestPaths.moonlab, ["notebook", flag, script.path, "-o", output.path])
      XCTAssertEqual(r.status, 2, r.stderr)
      XCTAssertTrue(r.stderr.contains("refusing to overwrite the input"), r.stderr)
      XCTAssertEqual(
        try String(contentsOf: script, encoding: .utf8), source, "\(flag) kept the script")
    }
    // To a new file it still converts, and back.
    let ipynb = dir.appendingPathComponent("nb.ipynb")
    let r = try runProcess(
      TestPaths.moonlab, ["notebook", "--to-ipynb", script.path, "-o", ipynb.path])
    XCTAssertEqual(r.status, 0, r.stderr)
    let back = dir.appendingPathComponent("back.lua")
    let s = try runProcess(
      TestPaths.moonlab, ["notebook", "--from-ipynb", ipynb.path, "-o", back.path])
    XCTAssertEqual(s.status, 0, s.stderr)
    XCTAssertTrue(try String(contentsOf: back, encoding: .utf8).contains("print(1)"))
  }
}
