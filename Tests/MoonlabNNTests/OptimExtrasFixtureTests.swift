import MoonlabNN
import MoonlabTensor
import XCTest

/// RMSprop, Adagrad, gradient clipping and ReduceLROnPlateau against PyTorch
/// (scripts/fixtures_training.py).
final class OptimExtrasFixtureTests: XCTestCase {
  func entry(_ key: String) throws -> [String: Any] { try FixtureCase.named(key).raw }

  func floats(_ j: [String: Any], _ key: String) throws -> [Float] {
    try XCTUnwrap(j[key] as? [Double]).map(Float.init)
  }

  /// w [3,4] and b [5] of the fixture problem, with g = a (p − t) + 0.1 p³ set as gradient.
  func problem() throws -> (w: Tensor, b: Tensor, setGradients: () -> Void) {
    let j = try entry("optimizers")
    let (a, t) = (try floats(j, "a"), try floats(j, "t"))
    let w = try Tensor(shape: [3, 4], values: try floats(j, "w"))
    let b = try Tensor(shape: [5], values: try floats(j, "b"))
    w.requiresGrad = true
    b.requiresGrad = true
    return (
      w, b,
      {
        var offset = 0
        for x in [w, b] {
          let g = Tensor(zeros: x.shape)
          for i in 0..<x.count {
            let v = x.data[i]
            g.data[i] = a[offset + i] * (v - t[offset + i]) + Float(0.1) * v * v * v
          }
          x.grad = g
          offset += x.count
        }
      }
    )
  }

  func testOptimizersFollowPyTorch() throws {
    let cases = try XCTUnwrap(try entry("optimizers")["cases"] as? [[String: Any]])
    XCTAssertEqual(cases.count, 5)
    for c in cases {
      let name = try XCTUnwrap(c["name"] as? String)
      let o = try XCTUnwrap(c["options"] as? [String: Any])
      let (w, b, setGradients) = try problem()
      let lr = try XCTUnwrap(o["lr"] as? Double)
      let opt: Optimizer =
        c["optimizer"] as? String == "RMSprop"
        ? try RMSprop(
          [w, b], lr: lr, alpha: o["alpha"] as? Double ?? 0.99, eps: o["eps"] as? Double ?? 1e-8,
          weightDecay: o["weight_decay"] as? Double ?? 0, momentum: o["momentum"] as? Double ?? 0,
          centered: o["centered"] as? Bool ?? false)
        : try Adagrad(
          [w, b], lr: lr, lrDecay: o["lr_decay"] as? Double ?? 0,
          weightDecay: o["weight_decay"] as? Double ?? 0, eps: o["eps"] as? Double ?? 1e-10)
      for (k, expected) in try XCTUnwrap(c["trajectory"] as? [[Double]]).enumerated() {
        opt.zeroGrad()
        setGradients()
        try opt.step()
        let got = w.toArray() + b.toArray()
        for i in got.indices
        where !relativeClose(Double(got[i]), expected[i], tol: 1e-5, floor: 1e-3) {
          return XCTFail("\(name) step \(k + 1) element \(i): \(got[i]) vs PyTorch \(expected[i])")
        }
      }
    }
  }

  func testClipGradNorm() throws {
    let cases = try XCTUnwrap(try entry("clip_grad_norm")["cases"] as? [[String: Any]])
    for c in cases {
      let (w, b, setGradients) = try problem()
      setGradients()
      let normType = c["norm_type"] as? Double ?? .infinity
      let total = try GradClip.byNorm(
        [w, b], maxNorm: try XCTUnwrap(c["max_norm"] as? Double), normType: normType)
      XCTAssertTrue(
        relativeClose(total, try XCTUnwrap(c["total"] as? Double), tol: 1e-5),
        "norm \(normType): total \(total)")
      let got = try XCTUnwrap(w.grad).toArray() + (try XCTUnwrap(b.grad)).toArray()
      let expected = try XCTUnwrap(c["grads"] as? [Double])
      for i in got.indices {
        XCTAssertTrue(
          relativeClose(Double(got[i]), expected[i], tol: 1e-5), "norm \(normType) element \(i)")
      }
    }
    XCTAssertThrowsError(try GradClip.byNorm([], maxNorm: -1)) {
      XCTAssertTrue("\($0)".contains("clip_grad_norm: max_norm -1.0"), "\($0)")
    }
  }

  func testClipGradValue() throws {
    let c = try entry("clip_grad_value")
    let (w, b, setGradients) = try problem()
    setGradients()
    try GradClip.byValue([w, b], value: try XCTUnwrap(c["value"] as? Double))
    let got = try XCTUnwrap(w.grad).toArray() + (try XCTUnwrap(b.grad)).toArray()
    XCTAssertEqual(
      got.map(Double.init), try XCTUnwrap(c["grads"] as? [Double]).map { Double(Float($0)) })
  }

  func testEMAFollowsAveragedModel() throws {
    let j = try entry("ema")
    let (w, b, setGradients) = try problem()
    let opt = try SGD([w, b], lr: try XCTUnwrap(j["lr"] as? Double), momentum: 0.9)
    let ema = try EMA([w, b], decay: try XCTUnwrap(j["decay"] as? Double))
    XCTAssertThrowsError(try ema.apply()) { XCTAssertTrue("\($0)".contains("no update() yet")) }
    for _ in 0..<(try XCTUnwrap(j["steps"] as? Int)) {
      opt.zeroGrad()
      setGradients()
      try opt.step()
      try ema.update()
    }
    func values() -> [Float] { w.toArray() + b.toArray() }
    func close(_ got: [Float], _ key: String) throws {
      let want = try XCTUnwrap(j[key] as? [Double])
      for i in got.indices {
        XCTAssertTrue(relativeClose(Double(got[i]), want[i], tol: 1e-5), "\(key) element \(i)")
      }
    }
    try close(values(), "trained")
    try ema.apply()
    try close(values(), "averaged")
    XCTAssertThrowsError(try ema.update()) { XCTAssertTrue("\($0)".contains("restore()")) }
    try ema.restore()
    try close(values(), "trained")
    XCTAssertThrowsError(try ema.restore())
    XCTAssertThrowsError(try EMA([w], decay: 1))
  }

  func testReduceLROnPlateau() throws {
    let j = try entry("plateau")
    let metrics = try XCTUnwrap(j["metrics"] as? [Double])
    for c in try XCTUnwrap(j["cases"] as? [[String: Any]]) {
      let name = try XCTUnwrap(c["name"] as? String)
      let o = try XCTUnwrap(c["options"] as? [String: Any])
      let opt = try SGD([Tensor(zeros: [1])], lr: 0.1)
      let s = try ReduceLROnPlateau(
        opt, mode: ReduceLROnPlateau.Mode(rawValue: o["mode"] as? String ?? "min") ?? .min,
        factor: o["factor"] as? Double ?? 0.1, patience: o["patience"] as? Int ?? 10,
        threshold: o["threshold"] as? Double ?? 1e-4,
        thresholdMode: ReduceLROnPlateau.ThresholdMode(
          rawValue: o["threshold_mode"] as? String ?? "rel") ?? .rel,
        cooldown: o["cooldown"] as? Int ?? 0, minLR: o["min_lr"] as? Double ?? 0)
      let lrs = try XCTUnwrap(c["lrs"] as? [Double])
      for (k, m) in metrics.enumerated() {
        s.step(m)
        XCTAssertTrue(
          relativeClose(opt.lr, lrs[k], tol: 1e-12), "\(name) step \(k + 1): \(opt.lr) vs \(lrs[k])"
        )
      }
    }
    XCTAssertThrowsError(try ReduceLROnPlateau(try SGD([Tensor(zeros: [1])], lr: 0.1), factor: 1)) {
      XCTAssertTrue("\($0)".contains("ReduceLROnPlateau: factor 1.0"), "\($0)")
    }
  }
}
