import MoonlabNN
import MoonlabTensor
import XCTest

/// ExponentialLR, LinearLR, OneCycleLR, SequentialLR and schedules over parameter groups
/// against PyTorch's lr sequences (scripts/fixtures_training.py).
final class ScheduleExtrasFixtureTests: XCTestCase {
  func make(_ name: String, _ o: [String: Any], _ opt: Optimizer) throws -> LRSchedule {
    func d(_ key: String, _ fallback: Double) -> Double { o[key] as? Double ?? fallback }
    switch name {
    case "exponential": return try ExponentialLR(opt, gamma: d("gamma", 0))
    case "linear_warmup", "linear_decay":
      return try LinearLR(
        opt, startFactor: d("start_factor", 1.0 / 3), endFactor: d("end_factor", 1),
        totalIters: o["total_iters"] as? Int ?? 5)
    case _ where name.hasPrefix("onecycle"):
      return try OneCycleLR(
        opt, maxLR: d("max_lr", 0), totalSteps: o["total_steps"] as? Int ?? 0,
        pctStart: d("pct_start", 0.3),
        anneal: OneCycleLR.Anneal(rawValue: o["anneal_strategy"] as? String ?? "cos") ?? .cos,
        divFactor: d("div_factor", 25), finalDivFactor: d("final_div_factor", 1e4),
        threePhase: o["three_phase"] as? Bool ?? false)
    case "sequential_linear_cosine":
      let linear = try LinearLR(opt, startFactor: 0.1, totalIters: 3)
      let cosine = try CosineLR(opt, tMax: 8, minLR: 0.001)
      return try SequentialLR(opt, schedules: [linear, cosine], milestones: [3])
    case "cosine_groups": return try CosineLR(opt, tMax: 5, minLR: 0.001)
    default: throw TensorError("unknown schedule fixture \(name)")
    }
  }

  func testSequencesMatchPyTorch() throws {
    let cases = try XCTUnwrap(FixtureCase.named("schedules").raw["cases"] as? [[String: Any]])
    XCTAssertEqual(cases.count, 8)
    for c in cases {
      let name = try XCTUnwrap(c["name"] as? String)
      let lrs = try XCTUnwrap(c["lrs"] as? [Double])
      let groups = try lrs.map { try SGD([Tensor(zeros: [1])], lr: $0) }
      let opt: Optimizer = groups.count == 1 ? groups[0] : try ParamGroups(groups)
      let sched = try make(name, try XCTUnwrap(c["options"] as? [String: Any]), opt)
      for (k, expected) in try XCTUnwrap(c["sequence"] as? [[Double]]).enumerated() {
        if k > 0 { try sched.step() }
        for (g, lr) in opt.groupLRs.enumerated()
        where !relativeClose(lr, expected[g], tol: 1e-9, floor: 1e-12) {
          XCTFail("\(name) step \(k) group \(g + 1): \(lr) vs PyTorch \(expected[g])")
        }
      }
    }
  }

  func testInvalidOptions() throws {
    let opt = try SGD([Tensor(zeros: [1])], lr: 0.1)
    XCTAssertThrowsError(try ExponentialLR(opt, gamma: 0))
    XCTAssertThrowsError(try LinearLR(opt, startFactor: 0))
    XCTAssertThrowsError(try LinearLR(opt, totalIters: 0))
    XCTAssertThrowsError(try OneCycleLR(opt, maxLR: 1, totalSteps: 0))
    XCTAssertThrowsError(try OneCycleLR(opt, maxLR: 1, totalSteps: 10, pctStart: 2))
    let other = try SGD([Tensor(zeros: [1])], lr: 0.1)
    XCTAssertThrowsError(
      try SequentialLR(opt, schedules: [try ExponentialLR(other, gamma: 0.5)], milestones: [])
    ) { XCTAssertTrue("\($0)".contains("belongs to another optimizer"), "\($0)") }
    XCTAssertThrowsError(
      try SequentialLR(opt, schedules: [try ExponentialLR(opt, gamma: 0.5)], milestones: [2])
    ) { XCTAssertTrue("\($0)".contains("1 schedules need 0 milestones"), "\($0)") }
  }

  func testOneCycleStaysAtItsFinalLRPastTheEnd() throws {
    let opt = try SGD([Tensor(zeros: [1])], lr: 0.1)
    let s = try OneCycleLR(opt, maxLR: 1, totalSteps: 5)
    for _ in 0..<4 { try s.step() }
    let last = opt.lr
    try s.step()
    XCTAssertEqual(opt.lr, last)
  }
}
