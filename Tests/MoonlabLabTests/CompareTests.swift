import Foundation
import TestSupport
import XCTest

@testable import MoonlabLab

/// `moonlab compare`: runs side by side showing only what differs, final and best
/// metrics and overlaid curves; sweeps aligned by configuration.
final class CompareTests: XCTestCase {
  /// Four epochs whose loss falls and accuracy peaks at epoch 3, scaled by lab.config.lr.
  static let run = """
    local lr = lab.config.lr or 0.1
    local acc = {0.5, 0.6, 0.8, 0.7}
    for epoch = 1, 4 do
      lab.log{epoch = epoch, train_loss = 1 / (epoch * lr * 10), val_acc = acc[epoch] * lr * 10, seconds = os.clock()}
    end
    """

  /// The rows of the Markdown table under `## heading` in `text`.
  func table(_ text: String, _ heading: String) -> [[String]] {
    guard let start = text.range(of: "## \(heading)\n") else { return [] }
    var rows: [[String]] = []
    var started = false
    for line in text[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasPrefix("## ") { break }
      guard line.hasPrefix("|") else {
        if started { break } else { continue }
      }
      started = true
      rows.append(
        line.dropFirst(2).dropLast(2).components(separatedBy: " | "))
    }
    return rows.filter { $0.first != "---" }
  }

  func testTwoRunsDifferingInOneSetValueShowThatValueAndTheirMetrics() throws {
    let folder = try TestPaths.temporaryDirectory()
    try writeScript(Self.run, "train.lua", in: folder)
    for (out, lr) in [("a", "0.1"), ("b", "0.05")] {
      let r = try runMoonlab(["run", "train.lua", "--set", "lr=\(lr)", "--out", out], in: folder)
      XCTAssertEqual(r.status, 0, r.output)
    }
    let r = try runMoonlab(["compare", "a", "b", "--out", "cmp"], in: folder)
    XCTAssertEqual(r.status, 0, r.output)
    XCTAssertEqual(
      table(r.output, "Configuration"), [["key", "a", "b"], ["config.lr", "0.1", "0.05"]])
    XCTAssertEqual(
      table(r.output, "Metrics"),
      [
        ["metric", "a final", "a best", "b final", "b best"],
        ["train_loss", "0.25", "0.25 (epoch 4)", "0.5", "0.5 (epoch 4)"],
        ["val_acc", "0.7", "0.8 (epoch 3)", "0.35", "0.4 (epoch 3)"],
      ])
    let cmp = folder.appendingPathComponent("cmp")
    let md = read(cmp.appendingPathComponent("compare.md"))
    XCTAssertTrue(md.hasPrefix("# Comparison of 2 runs\n"), md)
    XCTAssertEqual(table(md, "Configuration"), table(r.output, "Configuration"))
    XCTAssertTrue(md.contains("![val_acc](compare-plots/plot-002.svg)"), md)
    XCTAssertTrue(exists(cmp, "compare-plots/plot-002.svg"))
    // compare.html: self-contained, no scripts; a chart per metric with a line per run.
    let html = read(cmp.appendingPathComponent("compare.html"))
    XCTAssertFalse(html.contains("<script"))
    XCTAssertFalse(html.contains("src=\"http"))
    XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 2, "train_loss and val_acc")
    XCTAssertEqual(html.components(separatedBy: "<polyline").count - 1, 4)
    XCTAssertTrue(html.contains("<td>config.lr</td><td>0.1</td><td>0.05</td>"))
    XCTAssertEqual(leftoverTemporaryFiles(cmp), [])

    // --all lists every key, the incidental ones (argv, start time) too.
    let all = try runMoonlab(["compare", "a", "b", "--all", "--out", "cmp"], in: folder)
    let keys = table(all.output, "Configuration").map { $0[0] }
    for key in ["seed", "threads", "settings.lr", "config.lr", "argv", "started", "script.sha256"] {
      XCTAssertTrue(keys.contains(key), "\(key) in \(keys)")
    }
    // The same run twice: nothing differs.
    let same = try runMoonlab(["compare", "a", "a/", "--out", "cmp"], in: folder)
    XCTAssertEqual(same.status, 0, same.output)
    XCTAssertTrue(same.output.contains("The configurations are the same"), same.output)
  }

  func testSweepsAreAlignedByConfiguration() throws {
    let folder = try TestPaths.temporaryDirectory()
    try writeScript(
      """
      lab.sweep{name = "s", grid = {a = lab.config.wide and {2, 3} or {1, 2}}, repeats = 2,
        metric = "score", mode = "max",
        run = function(cfg)
          lab.log{epoch = 1, loss = 1 / cfg.a}
          return {score = cfg.a * 10 + cfg.replicate}
        end}
      """, "sweep.lua", in: folder)
    XCTAssertEqual(
      try runMoonlab(["sweep", "sweep.lua", "--threads", "1", "--out", "one"], in: folder).status,
      0)
    XCTAssertEqual(
      try runMoonlab(
        ["sweep", "sweep.lua", "--threads", "1", "--out", "two", "--set", "wide=true"], in: folder
      ).status, 0)
    let r = try runMoonlab(["compare", "one", "two", "--out", "cmp"], in: folder)
    XCTAssertEqual(r.status, 0, r.output)
    XCTAssertEqual(
      table(r.output, "Results by configuration"),
      [
        ["a", "one n", "two n", "one score", "two score"],
        ["1", "2", "", "11.50 ± 0.71", ""],
        ["2", "2", "2", "21.50 ± 0.71 (best)", "21.50 ± 0.71"],
        ["3", "", "2", "", "31.50 ± 0.71 (best)"],
      ])
    let config = table(r.output, "Configuration")
    XCTAssertEqual(
      config.map { $0[0] }.sorted(), ["config.wide", "key", "sweep.space.grid.a"], "\(config)")
    let html = read(folder.appendingPathComponent("cmp/compare.html"))
    XCTAssertTrue(html.contains("Curves of each sweep's best configuration"))
    XCTAssertTrue(html.contains("two: a=3 (mean of 2)"), html)
  }

  func testBadInputIsNamed() throws {
    let folder = try TestPaths.temporaryDirectory()
    try writeScript(Self.run, "train.lua", in: folder)
    XCTAssertEqual(try runMoonlab(["run", "train.lua", "--out", "a"], in: folder).status, 0)
    try FileManager.default.createDirectory(
      at: folder.appendingPathComponent("empty"), withIntermediateDirectories: true)
    try writeScript(
      "lab.sweep{grid = {a = {1}}, metric = 'm', run = function() return {m = 1} end}", "s.lua",
      in: folder)
    XCTAssertEqual(try runMoonlab(["sweep", "s.lua", "--out", "sw"], in: folder).status, 0)
    for (args, message) in [
      (["missing", "a"], "compare: missing is not a folder"),
      (["a", "empty"], "empty is neither a run directory (config.json) nor a sweep folder"),
      (["a", "sw"], "give run directories or sweep folders, not both"),
    ] {
      let r = try runMoonlab(["compare"] + args + ["--out", "cmp"], in: folder)
      XCTAssertEqual(r.status, 1, r.output)
      XCTAssertTrue(r.output.contains(message), r.output)
      XCTAssertFalse(exists(folder, "cmp"), "nothing written on error")
    }
  }
}
