import Foundation
import XCTest

@testable import MoonlabLab

/// Cell splitting and the script ⇄ .ipynb round trip (issue 8).
final class NotebookCellTests: XCTestCase {
  func testSplitsCodeAndMarkdownCells() {
    let script = CellScript(
      parsing: """
        --%% [markdown]
        -- # Title
        --
        -- Some text.

        --%%
        local x = 1

        -- %% Second cell
        print(x)

        """)
    XCTAssertEqual(script.cells.map(\.kind), [.markdown, .code, .code])
    XCTAssertEqual(script.cells[0].markdown, "# Title\n\nSome text.")
    XCTAssertEqual(script.cells[1].content, "local x = 1")
    XCTAssertEqual(script.cells[1].firstLine, 7)
    XCTAssertEqual(script.cells[2].marker, "-- %% Second cell\n")
    XCTAssertEqual(script.cells[2].content, "print(x)")
    XCTAssertEqual(script.cells[2].trailing, "\n")
    XCTAssertEqual(script.cells[2].firstLine, 10)
  }

  func testScriptWithoutMarkersIsOneCell() {
    let script = CellScript(parsing: "print(1)\nprint(2)\n")
    XCTAssertEqual(script.cells.count, 1)
    XCTAssertEqual(script.cells[0].kind, .code)
    XCTAssertNil(script.cells[0].marker)
    XCTAssertEqual(script.cells[0].content, "print(1)\nprint(2)")
  }

  func testCodeAfterMarkdownCommentsStartsAnUnmarkedCell() {
    let script = CellScript(parsing: "--%% [md]\n-- notes\nprint(1)\n")
    XCTAssertEqual(script.cells.map(\.kind), [.markdown, .code])
    XCTAssertNil(script.cells[1].marker)
    XCTAssertEqual(script.cells[1].firstLine, 3)
  }

  static let roundTripScripts = [
    "",
    "print(1)",
    "print(1)\nprint(2)\n",
    "--%%\nprint(1)\n",
    "\n\n--%%\nlocal a = 1\n\n\n--%% [markdown]\n-- # Head\n--\n--   indented *md*\n\n--%%\nprint(a)\n\n\n",
    "-- header comment\nlocal x = 2\n--%% [markdown]\n--no space\n\n-- after a blank\nprint(x)\n--%%",
    "--%% [markdown]\r\n-- crlf lines\r\n\r\n--%%\r\nprint('crlf')\r\n",
    "--%%\n--%%\n--%% [markdown]\n--%%   titled  \nx = 1 -- trailing text",
    "--%% [markdown]\n-- ünïcödé ✓ `code`\n\n--%%\nprint('ü')\n\n   \t\n",
  ]

  func testRoundTripThroughIpynbIsByteIdentical() throws {
    for text in Self.roundTripScripts {
      let script = CellScript(parsing: text)
      XCTAssertEqual(script.text, text, "parse is lossless")
      let data = try Ipynb.encode(Ipynb.notebook(script))
      XCTAssertEqual(
        try Ipynb.script(fromNotebook: data), text, "round trip of \(text.debugDescription)")
    }
  }

  func testRoundTripOfTheQuickstart() throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("../../experiments/quickstart.lua")
    guard let data = FileManager.default.contents(atPath: url.path) else {
      throw XCTSkip("no quickstart")
    }
    let text = String(decoding: data, as: UTF8.self)
    let nb = try Ipynb.encode(Ipynb.notebook(CellScript(parsing: text)))
    XCTAssertEqual(try Ipynb.script(fromNotebook: nb), text)
  }

  /// A notebook written by Jupyter (no moonlab metadata) becomes a canonical script.
  func testNotebookFromJupyterGetsCanonicalMarkers() throws {
    let nb = """
      {"cells": [
        {"cell_type": "markdown", "id": "a", "metadata": {}, "source": ["# Hi\\n", "\\n", "text"]},
        {"cell_type": "code", "id": "b", "metadata": {}, "execution_count": null, "outputs": [],
         "source": "x = 1\\nprint(x)"},
        {"cell_type": "code", "id": "c", "metadata": {}, "execution_count": null, "outputs": [], "source": []}
      ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
      """
    XCTAssertEqual(
      try Ipynb.script(fromNotebook: Data(nb.utf8)),
      "--%% [markdown]\n-- # Hi\n--\n-- text\n\n--%%\nx = 1\nprint(x)\n\n--%%\n\n")
  }

  /// An edited markdown cell drops its stored raw comment lines for the canonical form.
  func testEditedMarkdownCellIsWrittenCanonically() throws {
    var nb = Ipynb.notebook(CellScript(parsing: "--%% [markdown]\n--old text\n"))
    var cells = nb["cells"] as? [[String: Any]] ?? []
    cells[0]["source"] = ["new text"]
    nb["cells"] = cells
    XCTAssertEqual(
      try Ipynb.script(fromNotebook: try Ipynb.encode(nb)), "--%% [markdown]\n-- new text\n")
  }

  func testBadNotebookIsAnError() {
    XCTAssertThrowsError(try Ipynb.script(fromNotebook: Data("[1, 2]".utf8)))
    XCTAssertThrowsError(
      try Ipynb.script(fromNotebook: Data("{\"cells\": [{\"source\": 3}]}".utf8)))
  }
}
