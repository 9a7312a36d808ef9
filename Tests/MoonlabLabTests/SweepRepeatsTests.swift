import Foundation
import TestSupport
import XCTest

@testable import MoonlabLab

/// lab.sweep{repeats = n} (mean ± std per configuration, ranked by the mean), trial ids
/// from SHA-256 with old FNV-1a folders resumed, and `moonlab report --format`.
final class SweepRepeatsTests: XCTestCase {
  /// Two configurations: a = 2 scores 20 every time; a = 1 scores 35, 10, 10, so its best
  /// single trial beats every a = 2 trial while its mean (18.33) does not. `noise` comes
  /// from the trial's seeded generator, so it differs between replicates only if their
  /// seeds do.
  static let script = """
    local results = lab.sweep{
      name = "rep", grid = {a = {1, 2}}, metric = "score", mode = "max",
      repeats = lab.config.repeats or 3,
      run = function(cfg)
        for epoch = 1, 2 do lab.log{epoch = epoch, loss = cfg.a / epoch} end
        local bonus = (cfg.a == 1 and cfg.replicate == 1) and 25 or 0
        return {score = cfg.a * 10 + bonus, noise = tensor.randn{1}:item()}
      end,
    }
    local r = results[1]
    print(string.format("best a=%d mean=%g std=%g n=%d trials=%d replicate-trial=%s",
      r.cfg.a, r.result.score, r.std.score, r.n, #r.trials, r.trial))
    """

  func csv(_ dir: URL) -> [[String]] {
    read(dir.appendingPathComponent("results.csv")).split(separator: "\n").map {
      $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }
  }

  func testRepeatsGiveMeanAndStdPerConfigurationAndTheBestByTheMean() throws {
    let folder = try TestPaths.temporaryDirectory()
    try writeScript(Self.script, "rep.lua", in: folder)
    let one = try runMoonlab(["sweep", "rep.lua", "--threads", "1", "--out", "one"], in: folder)
    XCTAssertEqual(one.status, 0, one.output)
    XCTAssertTrue(one.output.contains("6 trials, 0 already done, running 6"), one.output)
    XCTAssertTrue(one.output.contains("best a=2 mean=20 std=0 n=3 trials=3"), one.output)
    let dir = folder.appendingPathComponent("one")
    let rows = csv(dir)
    XCTAssertEqual(
      rows.first,
      ["rank", "a", "n", "score_mean", "score_std", "noise_mean", "noise_std", "trials"])
    XCTAssertEqual(rows.count, 3)
    XCTAssertEqual(Array(rows[1].prefix(5)), ["1", "2", "3", "20", "0"])
    XCTAssertEqual(rows[2][1], "1")
    XCTAssertEqual(Double(rows[2][3])!, 55.0 / 3, accuracy: 1e-12)
    XCTAssertEqual(Double(rows[2][4])!, (625.0 / 3).squareRoot(), accuracy: 1e-12)
    // The noise columns are the mean and sample std of the replicates' own results.
    for row in rows.dropFirst() {
      let ids = row[7].split(separator: " ").map(String.init)
      XCTAssertEqual(ids.count, 3)
      let noise = try ids.map {
        try XCTUnwrap(
          JSON.read(dir.appendingPathComponent("\($0)/result.json"))?["result"]?["noise"]?.double)
      }
      XCTAssertEqual(Set(noise).count, 3, "each replicate has its own seed")
      let stats = try XCTUnwrap(MeanStd(noise))
      XCTAssertEqual(row[5], JSON.format(stats.mean))
      XCTAssertEqual(row[6], JSON.format(stats.std ?? .nan))
    }
    let md = read(dir.appendingPathComponent("results.md"))
    XCTAssertTrue(md.contains("2 configurations × 3 seeds (6 trials), mean ± sample std"), md)
    XCTAssertTrue(md.contains("| 2 | 1 | 3 | 18 ± 14 |"), md)
    let report = read(dir.appendingPathComponent("report.html"))
    XCTAssertTrue(report.contains("Curves of every configuration (mean of its replicates)"))
    XCTAssertTrue(report.contains("a=1 (mean of 3)"))

    // Worker processes give the same table, byte for byte.
    let workers = try runMoonlab(
      ["sweep", "rep.lua", "--threads", "1", "--out", "workers", "--jobs", "2"], in: folder)
    XCTAssertEqual(workers.status, 0, workers.output)
    XCTAssertEqual(
      read(folder.appendingPathComponent("workers/results.csv")),
      read(dir.appendingPathComponent("results.csv")))
  }

  /// Replicate 0 keeps the id a trial had without repeats, so raising `repeats` runs only
  /// the new replicates.
  func testRaisingRepeatsKeepsTheFinishedReplicates() throws {
    let folder = try TestPaths.temporaryDirectory()
    // (Not through --set: --set values outside the grid join the trial ids.)
    for n in [1, 3] {
      try writeScript(
        """
        lab.sweep{name = "r", grid = {a = {1, 2}}, repeats = \(n), metric = "m",
          run = function(cfg) return {m = cfg.a * 10 + cfg.replicate} end}
        """, "rep\(n).lua", in: folder)
    }
    XCTAssertEqual(
      try runMoonlab(["sweep", "rep1.lua", "--threads", "1", "--out", "t"], in: folder).status, 0)
    XCTAssertEqual(
      csv(folder.appendingPathComponent("t")).first?.prefix(3), ["rank", "trial", "seed"],
      "without repeats a row per trial, as before")
    let three = try runMoonlab(["sweep", "rep3.lua", "--threads", "1", "--out", "t"], in: folder)
    XCTAssertEqual(three.status, 0, three.output)
    XCTAssertTrue(three.output.contains("6 trials, 2 already done, running 4"), three.output)
    XCTAssertEqual(
      csv(folder.appendingPathComponent("t")).dropFirst().map { Array($0.prefix(5)) },
      [["1", "2", "3", "22", "1"], ["2", "1", "3", "12", "1"]])
  }

  func testRepeatsWithASeedKeyOrOutOfRangeIsAnError() throws {
    let folder = try TestPaths.temporaryDirectory()
    for (grid, repeats, message) in [
      ("{seed = {1, 2}}", "2", "a 'seed' key in the space fixes each trial's seed"),
      ("{a = {1}}", "0", "option 'repeats' must be between 1 and 1000, got 0"),
    ] {
      try writeScript(
        "lab.sweep{grid = \(grid), repeats = \(repeats), metric = 'm', run = function() return {m = 1} end}",
        "bad.lua", in: folder)
      let r = try runMoonlab(["sweep", "bad.lua", "--out", "bad"], in: folder)
      XCTAssertEqual(r.status, 1)
      XCTAssertTrue(r.output.contains("bad.lua:1: lab.sweep: \(message)"), r.output)
    }
  }

  /// Ids of neighbouring configurations differ in most digits; a sweep folder written
  /// with the old FNV-1a ids (these are the ids and seeds the old version gave the grid)
  /// is resumed, its results kept, and an unfinished old trial runs under its new id.
  func testOldIdFoldersAreResumedAndNewIdsDifferInMostDigits() throws {
    let folder = try TestPaths.temporaryDirectory()
    try writeScript(
      """
      lab.sweep{name = "grid6", grid = {a = {1, 2, 3}, b = {10, 20}}, metric = "score",
        run = function(cfg) return {score = -1} end}
      """, "sweep.lua", in: folder)
    let old: [(id: String, seed: String, a: Int, b: Int)] = [
      ("d0b1050cc4", "4089073423032911", 3, 20), ("989feae59a", "2820950706944842", 2, 20),
      ("d0baf70cc4", "1148979329764372", 3, 10), ("1adee8cfb1", "2649613591268053", 1, 20),
      ("98a350e59b", "1969928706898753", 2, 10), ("1adb62cfb1", "3641373079725150", 1, 10),
    ]
    let sweep = folder.appendingPathComponent("old")
    for t in old {
      let dir = sweep.appendingPathComponent(t.id)
      try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
      try "{\"name\": \"grid6/\(t.id)\"}\n".write(
        to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
      try "{\"id\": \"\(t.id)\", \"seed\": \(t.seed), \"result\": {\"score\": \(t.a * t.b)}}\n"
        .write(to: dir.appendingPathComponent("result.json"), atomically: true, encoding: .utf8)
      // The last one was killed before it finished.
      if t.id != "1adb62cfb1" {
        try Data().write(to: dir.appendingPathComponent("DONE"))
      }
    }
    let r = try runMoonlab(["sweep", "sweep.lua", "--threads", "1", "--out", "old"], in: folder)
    XCTAssertEqual(r.status, 0, r.output)
    XCTAssertTrue(r.output.contains("6 trials, 5 already done, running 1"), r.output)
    let rows = csv(sweep).dropFirst().map { [$0[1], $0[2], $0[3], $0[4], $0[5]] }
    XCTAssertEqual(
      Array(rows.prefix(5)),
      old.prefix(5).map { [$0.id, $0.seed, "\($0.a)", "\($0.b)", "\($0.a * $0.b)"] })
    let rerun = try XCTUnwrap(rows.last)
    XCTAssertEqual(Array(rerun[2...]), ["1", "10", "-1"])
    XCTAssertNotEqual(rerun[0], "1adb62cfb1")
    XCTAssertTrue(exists(sweep.appendingPathComponent(rerun[0]), "DONE"))
    // `moonlab report` of the folder recognises the old ids too.
    XCTAssertEqual(try runMoonlab(["report", "old"], in: folder).status, 0)
    XCTAssertEqual(csv(sweep).dropFirst().map { $0[1] }, rows.map { $0[0] })

    let fresh = try runMoonlab(
      ["sweep", "sweep.lua", "--threads", "1", "--out", "new"], in: folder)
    XCTAssertEqual(fresh.status, 0, fresh.output)
    let ids = csv(folder.appendingPathComponent("new")).dropFirst().map { Array($0[1]) }
    XCTAssertEqual(ids.count, 6)
    for (i, a) in ids.enumerated() {
      XCTAssertEqual(a.count, 10)
      for b in ids[(i + 1)...] {
        XCTAssertGreaterThanOrEqual(zip(a, b).filter { $0 != $1 }.count, 5, "\(a) vs \(b)")
      }
    }
  }

  func testReportFormatWritesThePaperTable() throws {
    let folder = try TestPaths.temporaryDirectory()
    try writeScript(Self.script, "rep.lua", in: folder)
    XCTAssertEqual(
      try runMoonlab(["sweep", "rep.lua", "--threads", "1", "--out", "s"], in: folder).status, 0)
    let latex = try runMoonlab(["report", "s", "--format", "latex"], in: folder)
    XCTAssertEqual(latex.status, 0, latex.output)
    XCTAssertTrue(
      latex.output.contains(
        "\\begin{tabular}{lrrr}\n\\toprule\na & n & score & noise \\\\\n\\midrule\n2 & 3 & \\textbf{20 $\\pm$ 0} & "
      ), latex.output)
    XCTAssertTrue(latex.output.contains("1 & 3 & 18 $\\pm$ 14 & "), latex.output)
    XCTAssertTrue(latex.output.hasSuffix("\\bottomrule\n\\end{tabular}\n"), latex.output)
    let md = try runMoonlab(["report", "s", "--format", "markdown"], in: folder)
    XCTAssertTrue(
      md.output.hasPrefix(
        "| a | n | score | noise |\n| --- | --- | --- | --- |\n| 2 | 3 | **20 ± 0** |"), md.output)
    let csv = try runMoonlab(
      ["report", "s", "--format", "csv", "--output", "table.csv"], in: folder)
    XCTAssertEqual(csv.status, 0, csv.output)
    XCTAssertEqual(
      read(folder.appendingPathComponent("table.csv")),
      read(folder.appendingPathComponent("s/results.csv")))
    XCTAssertEqual(leftoverTemporaryFiles(folder), [])
    // Bad input: a named error and exit status, never a trap.
    let trial = try XCTUnwrap(self.csv(folder.appendingPathComponent("s"))[1].last?.prefix(10))
    let run = try runMoonlab(["report", "s/\(trial)", "--format", "csv"], in: folder)
    XCTAssertEqual(run.status, 1)
    XCTAssertTrue(run.output.contains("is not a sweep folder (no sweep.json)"), run.output)
    let bad = try runMoonlab(["report", "s", "--format", "xml"], in: folder)
    XCTAssertNotEqual(bad.status, 0)
    XCTAssertTrue(bad.output.contains("'markdown', 'latex' or 'csv'"), bad.output)
    let lone = try runMoonlab(["report", "s", "--output", "x"], in: folder)
    XCTAssertEqual(lone.status, 1)
    XCTAssertTrue(lone.output.contains("--output goes with --format"), lone.output)
  }

  /// A sweep report overlays a line per configuration (27 in lr_momentum_sweep): the
  /// chart grows to show every legend entry instead of cutting it off.
  func testTheChartGrowsToShowALongLegend() {
    var p = Plot()
    p.series = (1...27).map { Plot.Series(name: "cfg \($0)", x: [1, 2], y: [Double($0), 1]) }
    let svg = SVGChart.render(p)
    XCTAssertTrue(svg.contains("height=\"534\""), String(svg.prefix(200)))
    XCTAssertTrue(svg.contains(">cfg 27</text>"))
    p.series = Array(p.series.prefix(3))
    XCTAssertTrue(SVGChart.render(p).contains("height=\"360\""), "a short legend keeps the size")
  }

  func testMeanStdShowsTheStdToTwoDigitsAndLatexIsEscaped() {
    XCTAssertEqual(MeanStd([0.97, 0.9712, 0.9735])?.text, "0.9716 ± 0.0018")
    XCTAssertEqual(MeanStd([1, 2, 3])?.text, "2.0 ± 1.0")
    XCTAssertEqual(MeanStd([150, 250])?.text, "200 ± 71")
    XCTAssertEqual(MeanStd([0.25])?.text, "0.25")
    XCTAssertEqual(MeanStd([0.5, 0.5])?.text, "0.5 ± 0")
    XCTAssertNil(MeanStd([]))
    XCTAssertEqual(
      PaperTable.latexEscape("test_acc 50% & #1 {x}"), "test\\_acc 50\\% \\& \\#1 \\{x\\}")
  }
}
