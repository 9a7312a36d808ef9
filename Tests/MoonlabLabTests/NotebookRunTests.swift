import CLua
import Foundation
import MoonlabLua
import TestSupport
import XCTest

@testable import MoonlabLab

/// `moonlab notebook`: one Lua state across cells, outputs per cell, errors in place, and a
/// structurally valid nbformat 4.5 file (scripts/notebook_check.sh runs the real
/// nbformat.validate and nbconvert).
final class NotebookRunTests: XCTestCase {
  private func run(_ code: String) throws -> (NotebookRunner.Result, URL) {
    let dir = try TestPaths.temporaryDirectory()
    let path = dir.appendingPathComponent("nb.lua")
    try code.write(to: path, atomically: true, encoding: .utf8)
    var request = RunRequest(scriptPath: path.path)
    request.outDir = dir.appendingPathComponent("run").path
    let result = try NotebookRunner(echo: false).run(request)
    try NotebookFiles.write(result, title: "nb")
    return (result, result.dir)
  }

  static let failing = """
    --%% [markdown]
    -- # A failing notebook

    --%%
    local x = 21
    print('x is', x)
    io.write('no newline')

    --%%
    print(x * 2)
    local t = tensor.zeros{2, 3}
    local u = t:matmul(t)

    --%%
    print('never')

    """

  func testErrorIsShownInItsCellAndLaterCellsDontRun() throws {
    let (result, dir) = try run(Self.failing)
    XCTAssertNotNil(result.error)
    let first = try XCTUnwrap(result.runs[1])
    XCTAssertEqual(first.state, .ok)
    XCTAssertEqual(first.outputs, [.stream(name: "stdout", text: "x is\t21\nno newline")])
    let second = try XCTUnwrap(result.runs[2])
    XCTAssertEqual(second.state, .failed)
    XCTAssertEqual(
      second.outputs.first, .stream(name: "stdout", text: "42\n"), "the local x reached cell 2")
    guard case .error(let message, let traceback)? = second.outputs.last else {
      return XCTFail("no error output: \(second.outputs)")
    }
    XCTAssertTrue(
      message.hasSuffix("nb.lua:12: matmul: shapes [2,3] and [2,3] don't match (3 ≠ 2)"), message)
    XCTAssertTrue(traceback.contains("stack traceback:"), "\(traceback)")
    XCTAssertEqual(result.runs[3]?.state, .notRun)

    let html = try String(contentsOf: dir.appendingPathComponent("notebook.html"), encoding: .utf8)
    XCTAssertTrue(html.contains("<pre class=\"stream stdout\">x is\t21\nno newline</pre>"))
    XCTAssertTrue(html.contains("<span class=\"ln\">12</span>local u = t:matmul(t)"))
    XCTAssertTrue(html.contains("nb.lua:12: matmul"))
    XCTAssertTrue(html.contains("not run"))
    XCTAssertTrue(html.contains("<h3>A failing notebook</h3>"))
  }

  func testCommandExitsOneAndWritesBothFiles() throws {
    guard FileManager.default.isExecutableFile(atPath: TestPaths.moonlab.path) else {
      throw XCTSkip("build the moonlab product first (swift build): \(TestPaths.moonlab.path)")
    }
    let dir = try TestPaths.temporaryDirectory()
    let script = dir.appendingPathComponent("failing.lua")
    try Self.failing.write(to: script, atomically: true, encoding: .utf8)
    let out = dir.appendingPathComponent("run")
    let r = try runProcess(TestPaths.moonlab, ["notebook", script.path, "--out", out.path])
    XCTAssertEqual(r.status, 1, r.stderr)
    XCTAssertEqual(r.stdout, "x is\t21\nno newline42\n", "printed text is echoed")
    XCTAssertTrue(r.stderr.contains("failing.lua:12: matmul"), r.stderr)
    for file in ["notebook.html", "notebook.ipynb"] {
      XCTAssertTrue(
        FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), file)
    }
  }

  /// The "using the bundled sample" notice shows in the cell that loaded the data (in a
  /// fresh process: the notice is said once per process).
  func testDataNoticeShowsInItsCell() throws {
    guard FileManager.default.isExecutableFile(atPath: TestPaths.moonlab.path) else {
      throw XCTSkip("build the moonlab product first (swift build): \(TestPaths.moonlab.path)")
    }
    let dir = try TestPaths.temporaryDirectory()
    let empty = try TestPaths.temporaryDirectory()
    let script = dir.appendingPathComponent("sample.lua")
    try "--%%\nprint('first')\n--%%\nprint(#data.cifar10{split = 'test'})\n".write(
      to: script, atomically: true, encoding: .utf8)
    let out = dir.appendingPathComponent("run")
    var environment = ProcessInfo.processInfo.environment
    environment["MOONLAB_DATA"] = empty.path
    let r = try runProcess(
      TestPaths.moonlab, ["notebook", script.path, "--out", out.path], environment: environment,
      currentDirectory: empty)
    XCTAssertEqual(r.status, 0, r.stderr)
    let ipynb = try JSON.parse(
      String(contentsOf: out.appendingPathComponent("notebook.ipynb"), encoding: .utf8))
    let cells = ipynb["cells"]?.items ?? []
    XCTAssertEqual(cells.count, 2)
    let streams = cells.map { cell in
      (cell["outputs"]?.items ?? []).map {
        (
          $0["name"]?.text ?? "",
          $0["text"]?.items?.compactMap(\.text).joined() ?? $0["text"]?.text ?? ""
        )
      }
    }
    XCTAssertEqual(streams[0].map(\.0), ["stdout"], "\(streams[0])")
    XCTAssertTrue(
      streams[1].contains {
        $0.0 == "stderr" && $0.1.contains("1000-image test sample bundled with Moonlab")
      },
      "\(streams[1])")
    XCTAssertTrue(streams[1].contains { $0.0 == "stdout" && $0.1 == "1000\n" }, "\(streams[1])")
  }

  func testPrintIsCapturedInTheSandbox() throws {
    let dir = try TestPaths.temporaryDirectory()
    let path = dir.appendingPathComponent("sandboxed.lua")
    try "--%%\nprint('safe', 1 + 1)\n".write(to: path, atomically: true, encoding: .utf8)
    var request = RunRequest(scriptPath: path.path)
    request.sandbox = true
    request.outDir = dir.appendingPathComponent("run").path
    let result = try NotebookRunner(echo: false).run(request)
    XCTAssertNil(result.error)
    XCTAssertEqual(result.runs[0]?.outputs, [.stream(name: "stdout", text: "safe\t2\n")])
  }

  /// lab.fit's epoch lines are the cell's output, as docs/notebook.md says.
  func testFitEpochLinesLandInTheCell() throws {
    let (result, _) = try run(
      """
      --%%
      local x = tensor.randn{8, 2}
      local loader = data.Loader(data.tensors(x, tensor.ones{8}), {batch_size = 4})
      local m = nn.Linear(2, 2)
      lab.fit{model = m, optimizer = optim.SGD(m:parameters(), {lr = 0.1}), loss = nn.CrossEntropyLoss(), train = loader, epochs = 2}
      """)
    XCTAssertNil(result.error)
    let text = (result.runs[0]?.outputs ?? []).compactMap { output -> String? in
      if case .stream(_, let text) = output { return text }
      return nil
    }.joined()
    XCTAssertTrue(text.contains("epoch 1/2  train loss"), text)
    XCTAssertTrue(text.contains("epoch 2/2  train loss"), text)
  }

  func testSyntaxErrorIsBlamedOnItsCell() throws {
    let (result, _) = try run("--%%\nprint(1)\n--%%\nlocal = 2\n--%%\nprint(3)\n")
    XCTAssertEqual(result.runs[0]?.state, .notRun)
    XCTAssertEqual(result.runs[1]?.state, .failed)
    XCTAssertEqual(result.runs[2]?.state, .notRun)
  }

  func testDisplayOutputsLandInTheRunningCell() throws {
    let dir = try TestPaths.temporaryDirectory()
    let path = dir.appendingPathComponent("display.lua")
    try "--%%\nprint('before')\n--%%\nshow()\nprint('after')\n".write(
      to: path, atomically: true, encoding: .utf8)
    let bundle = [
      "image/svg+xml": "<svg xmlns=\"http://www.w3.org/2000/svg\"/>", "text/plain": "chart",
    ]
    // `show` stands in for a report function: Swift code that calls the session's display.
    var request = RunRequest(scriptPath: path.path)
    request.outDir = dir.appendingPathComponent("run").path
    let result = try NotebookRunner(echo: false).run(request) { host, output in
      Lua(host.state).push(function: "show") { _ in
        output.display(bundle)
        return 0
      }
      lua_setglobal(host.state, "show")
    }
    XCTAssertEqual(result.runs[0]?.outputs, [.stream(name: "stdout", text: "before\n")])
    XCTAssertEqual(
      result.runs[1]?.outputs, [.display(bundle), .stream(name: "stdout", text: "after\n")])
    let html = NotebookHTML.render(result, title: "t")
    XCTAssertTrue(
      html.contains("<div class=\"out\"><svg xmlns=\"http://www.w3.org/2000/svg\"/></div>"))
  }

  func testReportItemsShowUnderTheirCellInOrder() throws {
    let (result, dir) = try run(
      """
      --%%
      print('one')
      report.text('**bold** words')
      print('two')
      report.plot{series = {{name = 'loss', x = {1, 2, 3}, y = {3, 2, 1}}}, title = 'Loss'}
      --%%
      print('three')

      """)
    let outputs = try XCTUnwrap(result.runs[0]?.outputs)
    XCTAssertEqual(outputs.count, 4, "\(outputs)")
    XCTAssertEqual(outputs[0], .stream(name: "stdout", text: "one\n"))
    guard case .display(let text) = outputs[1], case .display(let plot) = outputs[3] else {
      return XCTFail("\(outputs)")
    }
    XCTAssertEqual(text["text/markdown"], "**bold** words")
    XCTAssertTrue(plot["image/svg+xml"]?.hasPrefix("<svg") ?? false)
    XCTAssertEqual(outputs[2], .stream(name: "stdout", text: "two\n"))
    XCTAssertEqual(result.runs[1]?.outputs, [.stream(name: "stdout", text: "three\n")])
    for file in ["report.html", "config.json", "DONE", "notebook.html", "notebook.ipynb"] {
      XCTAssertTrue(
        FileManager.default.fileExists(atPath: dir.appendingPathComponent(file).path), file)
    }
  }

  /// The nbformat 4.5 schema's required fields, checked without Python.
  func testIpynbIsStructurallyValid() throws {
    let (_, dir) = try run(Self.failing)
    let data = try Data(contentsOf: dir.appendingPathComponent("notebook.ipynb"))
    let nb = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    XCTAssertEqual(nb["nbformat"] as? Int, 4)
    XCTAssertEqual(nb["nbformat_minor"] as? Int, 5)
    let kernelspec = try XCTUnwrap(
      (nb["metadata"] as? [String: Any])?["kernelspec"] as? [String: Any])
    XCTAssertEqual(kernelspec["name"] as? String, "moonlab")
    let cells = try XCTUnwrap(nb["cells"] as? [[String: Any]])
    var ids = Set<String>()
    for cell in cells {
      let id = try XCTUnwrap(cell["id"] as? String)
      XCTAssertNotNil(id.range(of: "^[a-zA-Z0-9-_]{1,64}$", options: .regularExpression))
      XCTAssertTrue(ids.insert(id).inserted, "ids are unique")
      XCTAssertNotNil(cell["metadata"] as? [String: Any])
      XCTAssertNotNil(cell["source"] as? [String])
      switch cell["cell_type"] as? String {
      case "markdown":
        XCTAssertEqual(Set(cell.keys), ["cell_type", "id", "metadata", "source"])
      case "code":
        XCTAssertEqual(
          Set(cell.keys), ["cell_type", "id", "metadata", "source", "outputs", "execution_count"])
        for output in try XCTUnwrap(cell["outputs"] as? [[String: Any]]) {
          switch output["output_type"] as? String {
          case "stream": XCTAssertEqual(Set(output.keys), ["output_type", "name", "text"])
          case "display_data":
            XCTAssertEqual(Set(output.keys), ["output_type", "data", "metadata"])
          case "error":
            XCTAssertEqual(Set(output.keys), ["output_type", "ename", "evalue", "traceback"])
          case let t: XCTFail("unexpected output type \(String(describing: t))")
          }
        }
      case let t: XCTFail("unexpected cell type \(String(describing: t))")
      }
    }
  }
}
