import MoonlabTensor
import XCTest

@testable import MoonlabNN

/// Optimizers against PyTorch trajectories (scripts/fixtures_optim.py).
final class OptimTests: XCTestCase {
  struct Problem {
    let w: [Float], b: [Float], a: [Float], t: [Float]
    let cases: [[String: Any]]
  }

  func problem() throws -> Problem {
    let json = try XCTUnwrap(OptimFixtures.json("optim/optimizers.json") as? [String: Any])
    func floats(_ key: String) throws -> [Float] {
      try XCTUnwrap(json[key] as? [Double]).map(Float.init)
    }
    return Problem(
      w: try floats("w"), b: try floats("b"), a: try floats("a"), t: try floats("t"),
      cases: try XCTUnwrap(json["cases"] as? [[String: Any]]))
  }

  /// The fixture's gradient g = a (p − t) + 0.1 p³, in the same float32 operations.
  func setGradients(_ params: [Tensor], _ p: Problem) {
    var offset = 0
    for x in params {
      let g = Tensor(zeros: x.shape)
      for i in 0..<x.count {
        let v = x.data[i]
        g.data[i] = p.a[offset + i] * (v - p.t[offset + i]) + Float(0.1) * v * v * v
      }
      x.grad = g
      offset += x.count
    }
  }

  func makeOptimizer(_ kind: String, _ o: [String: Any], _ params: [Tensor]) throws -> Optimizer {
    let lr = try XCTUnwrap(o["lr"] as? Double)
    let wd = o["weight_decay"] as? Double
    let betas = (o["betas"] as? [Double]).map { ($0[0], $0[1]) } ?? (0.9, 0.999)
    let eps = o["eps"] as? Double ?? 1e-8
    switch kind {
    case "SGD":
      return try SGD(
        params, lr: lr, momentum: o["momentum"] as? Double ?? 0, weightDecay: wd ?? 0,
        nesterov: o["nesterov"] as? Bool ?? false)
    case "Adam": return try Adam(params, lr: lr, betas: betas, eps: eps, weightDecay: wd ?? 0)
    case "AdamW": return try AdamW(params, lr: lr, betas: betas, eps: eps, weightDecay: wd ?? 0.01)
    default: throw TensorError("unknown optimizer \(kind)")
    }
  }

  func testTwentyStepsFollowPyTorch() throws {
    let p = try problem()
    XCTAssertEqual(p.cases.count, 9)
    for c in p.cases {
      let name = try XCTUnwrap(c["name"] as? String)
      let w = try Tensor(shape: [3, 4], values: p.w)
      let b = try Tensor(shape: [5], values: p.b)
      let opt = try makeOptimizer(
        try XCTUnwrap(c["optimizer"] as? String), try XCTUnwrap(c["options"] as? [String: Any]),
        [w, b])
      let trajectory = try XCTUnwrap(c["trajectory"] as? [[Double]])
      XCTAssertEqual(trajectory.count, 20)
      var worst = 0.0
      for (k, expected) in trajectory.enumerated() {
        opt.zeroGrad()
        setGradients([w, b], p)
        try opt.step()
        let got = (w.toArray() + b.toArray()).map(Double.init)
        for (x, y) in zip(got, expected) {
          worst = max(worst, abs(x - y) / max(abs(y), 1e-6))
          XCTAssertTrue(
            relativeClose(x, y, tol: 1e-5), "\(name) step \(k + 1): \(x) vs PyTorch \(y)")
        }
      }
      print("\(name): worst relative difference to PyTorch over 20 steps \(worst)")
    }
  }

  func testParametersWithoutGradientAreSkipped() throws {
    let a = try Tensor(shape: [2], values: [1, 2])
    let b = try Tensor(shape: [1], values: [5])
    let opt = try Adam([a, b], lr: 0.1)
    a.grad = try Tensor(shape: [2], values: [1, -1])
    try opt.step()
    XCTAssertEqual(b.toArray(), [5])
    // Adam's first step moves each element by lr·sign(g) (m̂ = g, √v̂ = |g|).
    XCTAssertEqual(a.toArray()[0], 0.9, accuracy: 1e-6)
    XCTAssertEqual(a.toArray()[1], 2.1, accuracy: 1e-6)
    // b's first gradient arrives later: its bias correction starts at step 1 too.
    b.grad = try Tensor(shape: [1], values: [3])
    a.grad = nil
    try opt.step()
    XCTAssertEqual(b.toArray()[0], 4.9, accuracy: 1e-6)
  }

  func testUpdatesInPlaceAndLRIsSettable() throws {
    let w = try Tensor(shape: [2], values: [1, 1])
    let storage = w.data
    let opt = try SGD([w], lr: 0.5)
    w.grad = try Tensor(shape: [2], values: [1, 2])
    opt.lr = 0.25
    try opt.step()
    XCTAssertEqual(w.toArray(), [0.75, 0.5])
    XCTAssertEqual(w.data, storage)
    opt.zeroGrad()
    XCTAssertNil(w.grad)
  }

  func testInvalidOptionsAreRejected() {
    let w = Tensor(zeros: [2])
    let bad: [(String, () throws -> Optimizer)] = [
      ("learning rate", { try SGD([w], lr: -1) }),
      ("momentum", { try SGD([w], lr: 0.1, momentum: 1) }),
      ("momentum", { try SGD([w], lr: 0.1, momentum: -0.1) }),
      ("weight_decay", { try SGD([w], lr: 0.1, weightDecay: -1) }),
      ("nesterov", { try SGD([w], lr: 0.1, nesterov: true) }),
      ("beta2", { try Adam([w], betas: (0.9, 1)) }),
      ("eps", { try AdamW([w], eps: -1) }),
      ("empty", { try Adam([]) }),
      ("twice", { try SGD([w, w], lr: 0.1) }),
    ]
    for (part, make) in bad {
      XCTAssertThrowsError(try make()) { XCTAssertTrue("\($0)".contains(part), "\($0)") }
    }
    let w2 = Tensor(zeros: [2])
    w2.grad = Tensor(zeros: [3])
    XCTAssertThrowsError(try SGD([w2], lr: 0.1).step()) {
      XCTAssertTrue("\($0)".contains("SGD.step"), "\($0)")
    }
  }
}
