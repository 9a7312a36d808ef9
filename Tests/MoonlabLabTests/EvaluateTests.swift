import Foundation
import TestSupport
import XCTest

@testable import MoonlabLab

/// lab.evaluate's metrics (checked by hand), report.confusion, and ReduceLROnPlateau
/// driven by lab.fit.
final class EvaluateTests: XCTestCase {
  /// Seven samples of 3 class scores (the model passes them through) in batches of 3.
  /// argmax: 1 2 3 3 1 2 3 against labels 1 2 2 3 3 1 3 → 4 right; top-2 misses samples
  /// 3 and 5 (their label scores lowest) → 5 of 7. Confusion (rows true):
  /// [1 1 0; 0 1 1; 1 0 2], per class 1/2, 1/2, 2/3.
  static let setup = """
    local Id = nn.define{name = "Id", forward = function(self, x) return x end}
    local x = tensor.from{{3, 1, 0}, {0, 2, 1}, {1, 0, 2}, {0, 1, 3}, {2, 1, 0}, {1, 2, 0}, {0, 0, 5}}
    local y = tensor.from{1, 2, 2, 3, 3, 1, 3}
    local loader = data.Loader(data.tensors(x, y), {batch_size = 3})
    local model = Id()
    """

  func testMetricsByHand() throws {
    let folder = try TestPaths.temporaryDirectory()
    let script = try writeScript(
      Self.setup + "\n" + """
        local e = lab.evaluate(model, loader, {topk = 2})
        local function near(a, b) return math.abs(a - b) < 1e-6 end
        assert(e.samples == 7, "samples " .. e.samples)
        assert(near(e.accuracy, 4 / 7), "accuracy " .. e.accuracy)
        assert(near(e.topk_accuracy, 5 / 7), "top-2 " .. e.topk_accuracy)
        local pc = e.per_class_accuracy
        assert(#pc == 3 and near(pc[1], 0.5) and near(pc[2], 0.5) and near(pc[3], 2 / 3), "per class")
        local c = e.confusion:totable()
        local want = {{1, 1, 0}, {0, 1, 1}, {1, 0, 2}}
        for r = 1, 3 do for k = 1, 3 do assert(c[r][k] == want[r][k], "confusion " .. r .. "," .. k) end end
        -- the cross-entropy of the same scores, by hand
        local ce = nn.CrossEntropyLoss()(x, y):item()
        assert(near(e.loss, ce), "loss " .. e.loss .. " vs " .. ce)
        local same = lab.evaluate(model, loader, nn.CrossEntropyLoss{reduction = 'mean'})
        assert(same.topk_accuracy == nil and near(same.loss, ce), "loss argument, no topk")
        report.confusion(e.confusion, {'cat', 'dog', 'bird'}, {title = 'Test set'})
        report.confusion({{5, 0}, {2, 3}})
        """, "evaluate.lua", in: folder)
    let dir = folder.appendingPathComponent("run")
    try runInProcess(script, out: dir)
    let html = read(dir.appendingPathComponent("report.html"))
    XCTAssertTrue(html.contains("<table class=\"confusion\">"), html)
    XCTAssertTrue(html.contains("<th>bird</th>"))
    XCTAssertTrue(html.contains("66.67%"), "bird's accuracy")
    XCTAssertTrue(html.contains("<figcaption>Test set</figcaption>"))
    // The heat map: a row's cells shaded by their share of it (bird: 1/3, 0, 2/3).
    XCTAssertTrue(html.contains("rgba(31,119,180,0.667);color:#fff"), "dark diagonal cell")
    XCTAssertTrue(html.contains("rgba(31,119,180,0.333);color:#222"))
    let md = read(dir.appendingPathComponent("report.md"))
    XCTAssertTrue(md.contains("| true \\ predicted | cat | dog | bird | accuracy |"), md)
    XCTAssertTrue(md.contains("| bird | 1 | 0 | 2 | 66.67% |"), md)
    XCTAssertTrue(md.contains("| 2 | 2 | 3 | 60.00% |"), "default class names 1…C")
    // report.json keeps the block: rendering again gives the same table.
    try FileManager.default.removeItem(at: dir.appendingPathComponent("report.html"))
    try ReportWriter.rerender(dir)
    XCTAssertTrue(read(dir.appendingPathComponent("report.html")).contains("<th>bird</th>"))
  }

  func testErrors() throws {
    let folder = try TestPaths.temporaryDirectory()
    for (code, message) in [
      ("lab.evaluate(model, loader, {topk = 0})", "lab.evaluate: option 'topk' must be ≥ 1"),
      ("lab.evaluate(model, loader, {k = 2})", "lab.evaluate: unknown option 'k'"),
      ("report.confusion(tensor.zeros{2, 3})", "report.confusion: expected a square [C, C] tensor"),
      ("report.confusion({{1, 2}, {3}})", "report.confusion: expected C rows of C counts"),
      ("report.confusion({{1, -2}, {3, 4}})", "report.confusion: counts must be finite and ≥ 0"),
      ("report.confusion(tensor.zeros{2, 2}, {'a'})", "report.confusion: 1 class names for a 2×2"),
    ] {
      let script = try writeScript(Self.setup + "\n" + code, "bad.lua", in: folder)
      XCTAssertThrowsError(
        try runInProcess(script, out: folder.appendingPathComponent("run-\(UUID().uuidString)"))
      ) {
        XCTAssertTrue("\($0)".contains("bad.lua:6: \(message)"), "\($0)")
      }
    }
  }

  func testPlateauInFitWatchesValidationLoss() throws {
    // lr 1e-9 leaves the loss unchanged to float precision: no epoch improves on the
    // first, so with patience 0 each later epoch halves the lr (eps 0 lets it).
    let folder = try TestPaths.temporaryDirectory()
    let script = try writeScript(
      """
      local x = tensor.randn{20, 4}
      local y = x:matmul(tensor.randn{4, 3}):argmax(2)
      local loader = data.Loader(data.tensors(x, y), {batch_size = 20})
      local model = nn.Linear(4, 3)
      local opt = optim.SGD(model:parameters(), {lr = 1e-9})
      local plateau = optim.ReduceLROnPlateau(opt, {patience = 0, factor = 0.5, eps = 0, threshold = 0.01})
      local h = lab.fit{model = model, loss = nn.CrossEntropyLoss(), optimizer = opt, scheduler = plateau,
        train = loader, val = loader, epochs = 4}
      assert(h.lr[1] == 1e-9 and h.lr[2] == 1e-9 and h.lr[3] == 5e-10 and h.lr[4] == 2.5e-10,
        table.concat(h.lr, ' '))
      assert(plateau.best == h.val_loss[1])
      """, "plateau.lua", in: folder)
    try runInProcess(script, out: folder.appendingPathComponent("run"))
  }
}
