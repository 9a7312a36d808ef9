import MoonlabTensor
import XCTest

@testable import MoonlabNN

/// Learning-rate schedules against PyTorch's sequences (scripts/fixtures_optim.py).
final class ScheduleTests: XCTestCase {
  func makeSchedule(_ kind: String, _ o: [String: Any], _ opt: Optimizer) throws -> LRSchedule {
    switch kind {
    case "MultiStepLR":
      return try MultiStepLR(
        opt, milestones: try XCTUnwrap(o["milestones"] as? [Int]),
        gamma: try XCTUnwrap(o["gamma"] as? Double))
    case "StepLR":
      return try StepLR(
        opt, stepSize: try XCTUnwrap(o["step_size"] as? Int),
        gamma: try XCTUnwrap(o["gamma"] as? Double))
    case "CosineLR":
      return try CosineLR(
        opt, tMax: try XCTUnwrap(o["t_max"] as? Int), minLR: o["min_lr"] as? Double ?? 0)
    default:
      throw TensorError("unknown schedule \(kind)")
    }
  }

  func testSequencesMatchPyTorch() throws {
    let json = try XCTUnwrap(OptimFixtures.json("optim/schedules.json") as? [String: Any])
    let cases = try XCTUnwrap(json["cases"] as? [[String: Any]])
    XCTAssertEqual(cases.count, 6)
    for c in cases {
      let name = try XCTUnwrap(c["name"] as? String)
      let opt = try SGD([Tensor(zeros: [1])], lr: try XCTUnwrap(c["lr"] as? Double))
      var sched = try makeSchedule(
        try XCTUnwrap(c["schedule"] as? String), try XCTUnwrap(c["options"] as? [String: Any]), opt)
      if let steps = c["warmup"] as? Int { sched = try Warmup(sched, steps: steps) }
      let expected = try XCTUnwrap(c["lrs"] as? [Double])
      var got = [opt.lr]
      for _ in 1..<expected.count {
        try sched.step()
        got.append(opt.lr)
      }
      for (k, (x, y)) in zip(got, expected).enumerated() {
        XCTAssertTrue(
          relativeClose(x, y, tol: 1e-9, floor: 1e-12), "\(name) epoch \(k): \(x) vs PyTorch \(y)")
      }
    }
  }

  func testInvalidOptionsAreRejected() throws {
    let opt = try SGD([Tensor(zeros: [1])], lr: 0.1)
    XCTAssertThrowsError(try MultiStepLR(opt, milestones: [3, -1]))
    XCTAssertThrowsError(try MultiStepLR(opt, milestones: [3], gamma: 0))
    XCTAssertThrowsError(try StepLR(opt, stepSize: 0))
    XCTAssertThrowsError(try CosineLR(opt, tMax: 0))
    XCTAssertThrowsError(try CosineLR(opt, tMax: 5, minLR: -1))
    XCTAssertThrowsError(try Warmup(try StepLR(opt, stepSize: 2), steps: 0))
    XCTAssertEqual(opt.lr, 0.1)
  }
}
