import Foundation
import TestSupport
import XCTest

@testable import MoonlabLab

final class RunDirectoryTests: XCTestCase {
  static let script = """
    lab.config.width = lab.config.width or 4
    report.section("Notes")
    report.text("A *tiny* run.")
    for step = 1, 3 do lab.log{step = step, loss = 1 / step, note = "s" .. step} end
    report.table({{name = "a", value = 1}, {name = "b", value = 2.5}})
    report.plot{series = {{name = "y", y = {3, 1, 2}}}, title = "Three points", logy = true}
    report.image(tensor.rand{3, 4, lab.config.width}, {title = "noise"})
    report.filters(nn.Conv2d(3, 4, 3))
    assert(lab.run_dir():match("run$"))
    """

  func testRunDirectoryHoldsEveryRecord() throws {
    let folder = try TestPaths.temporaryDirectory()
    let script = try writeScript(Self.script, "tiny.lua", in: folder)
    let dir = folder.appendingPathComponent("run")
    try runInProcess(script, out: dir) { $0.config = [("width", .number(5))] }

    for file in [
      "config.json", "script.lua", "metrics.jsonl", "report.html", "report.md", "report.json",
      "DONE",
      "images/001.png", "images/002.png",
    ] {
      XCTAssertTrue(exists(dir, file), "missing \(file)")
    }
    XCTAssertEqual(leftoverTemporaryFiles(dir), [])
    XCTAssertEqual(read(dir.appendingPathComponent("script.lua")), Self.script)

    let config = try JSON.parse(read(dir.appendingPathComponent("config.json")))
    XCTAssertEqual(config["name"], .string("tiny"))
    XCTAssertEqual(config["script"]?["sha256"], .string(SHA256.hex(Data(Self.script.utf8))))
    XCTAssertEqual(config["threads"], .number(1))
    XCTAssertEqual(config["settings"]?["width"], .number(5))
    XCTAssertEqual(config["config"]?["width"], .number(5))
    XCTAssertEqual(config["status"], .string("finished"))
    for key in ["seed", "argv", "host", "moonlab_version", "started", "finished"] {
      XCTAssertNotNil(config[key], key)
    }

    let lines = MetricsLog.read(dir.appendingPathComponent("metrics.jsonl"))
    XCTAssertEqual(
      lines.map { $0.serialized() },
      (1...3).map { #"{"loss":\#(JSON.format(1 / Double($0))),"note":"s\#($0)","step":\#($0)}"# })

    let html = read(dir.appendingPathComponent("report.html"))
    XCTAssertTrue(html.contains("<em>tiny</em>"))
    XCTAssertTrue(html.contains("Three points"))
    XCTAssertEqual(html.components(separatedBy: "src=\"data:image/png;base64,").count - 1, 2)
    XCTAssertTrue(html.contains("<h2>Metrics</h2>"), "logged metrics get standard charts")
    XCTAssertFalse(html.contains("src=\"images/"), "report.html is self-contained")
    let md = read(dir.appendingPathComponent("report.md"))
    XCTAssertTrue(md.contains("![noise](images/001.png)"))
    XCTAssertTrue(md.contains("| a | 1 |"))
  }

  func testFailingScriptGetsReportWithErrorAndNoDone() throws {
    let folder = try TestPaths.temporaryDirectory()
    let script = try writeScript(
      """
      lab.log{epoch = 1, loss = 0.5}
      lab.log{epoch = 2, loss = 0.25}
      local t = tensor.zeros{2, 3}
      t:matmul(tensor.zeros{4, 5})
      """, "broken.lua", in: folder)
    let dir = folder.appendingPathComponent("run")
    XCTAssertThrowsError(try runInProcess(script, out: dir)) { error in
      XCTAssertTrue(String(describing: error).contains("broken.lua:4:"), "\(error)")
    }
    XCTAssertFalse(exists(dir, "DONE"))
    let html = read(dir.appendingPathComponent("report.html"))
    XCTAssertTrue(html.contains("failed"))
    XCTAssertTrue(html.contains("broken.lua:4:"), "the error with its line")
    XCTAssertTrue(
      html.contains("<h2>Metrics</h2>") && html.contains("<polyline"), "the metrics so far")
    XCTAssertEqual(MetricsLog.read(dir.appendingPathComponent("metrics.jsonl")).count, 2)
    let config = try JSON.parse(read(dir.appendingPathComponent("config.json")))
    XCTAssertEqual(config["status"], .string("failed"))
    XCTAssertEqual(leftoverTemporaryFiles(dir), [])
  }

  func testReportRerendersFromFilesAndRefusesFinishedDir() throws {
    let folder = try TestPaths.temporaryDirectory()
    let script = try writeScript(Self.script, "tiny.lua", in: folder)
    let dir = folder.appendingPathComponent("run")
    try runInProcess(script, out: dir)
    let html = read(dir.appendingPathComponent("report.html"))
    try FileManager.default.removeItem(at: dir.appendingPathComponent("report.html"))
    try FileManager.default.removeItem(at: dir.appendingPathComponent("report.md"))
    try ReportWriter.rerender(dir)
    XCTAssertEqual(read(dir.appendingPathComponent("report.html")), html)
    XCTAssertTrue(exists(dir, "report.md"))
    XCTAssertThrowsError(try runInProcess(script, out: dir)) { error in
      XCTAssertTrue(
        String(describing: error).contains("already holds a run (status: finished)"), "\(error)")
    }
  }

  /// A run that failed (or was interrupted) keeps its record: a second run with the same
  /// --out is refused instead of deleting the first one's metrics.
  func testUnfinishedRunIsNotOverwritten() throws {
    let folder = try TestPaths.temporaryDirectory()
    let failing = try writeScript(
      "lab.log{step = 1, loss = 0.5}\nerror('boom')\n", "f.lua", in: folder)
    let dir = folder.appendingPathComponent("run")
    XCTAssertThrowsError(try runInProcess(failing, out: dir))
    let metrics = read(dir.appendingPathComponent("metrics.jsonl"))
    XCTAssertTrue(metrics.contains("0.5"), metrics)
    XCTAssertThrowsError(try runInProcess(failing, out: dir)) { error in
      XCTAssertTrue(
        String(describing: error).contains("already holds a run (status: failed)"), "\(error)")
    }
    XCTAssertEqual(read(dir.appendingPathComponent("metrics.jsonl")), metrics)
  }

  func testMetricsReaderDropsAnUnfinishedLine() throws {
    let folder = try TestPaths.temporaryDirectory()
    let url = folder.appendingPathComponent("metrics.jsonl")
    try Data("{\"a\":1}\n{\"a\":2}\n{\"a\":".utf8).write(to: url)
    XCTAssertEqual(MetricsLog.read(url).map { $0["a"]?.double }, [1, 2])
  }

  func testBadReportArgumentsAreLuaErrors() throws {
    let folder = try TestPaths.temporaryDirectory()
    for (code, message) in [
      ("report.image(tensor.zeros{4, 5, 6})", "expected 1 or 3 channels"),
      (
        "report.plot{series = {{name = 'a', x = {1, 2}, y = {1}}}}", "has 2 x values and 1 y values"
      ),
      ("report.filters(nn.Linear(2, 3))", "no 4-D 'weight'"),
      ("lab.log{loss = {1, 2}}", "field 'loss' is a table"),
    ] {
      let script = try writeScript(code, "bad.lua", in: folder)
      let dir = folder.appendingPathComponent("run-\(UUID().uuidString)")
      XCTAssertThrowsError(try runInProcess(script, out: dir)) { error in
        XCTAssertTrue(String(describing: error).contains(message), "\(code): \(error)")
        XCTAssertTrue(String(describing: error).contains("bad.lua:1:"), "\(code): \(error)")
      }
    }
  }
}
