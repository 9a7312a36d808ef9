import MoonlabNN
import MoonlabTensor
import XCTest

/// The pieces of airbench94's recipe against PyTorch (scripts/fixtures_speedrun.py):
/// dirac_, the whitening init, LookaheadState, LambdaLR, summed label-smoothed
/// cross-entropy and nesterov SGD over groups with parameters frozen between steps.
final class SpeedrunFixtureTests: XCTestCase {
  func entry(_ key: String) throws -> [String: Any] { try FixtureCase.named(key).raw }

  func assertClose(
    _ got: Tensor, _ want: Tensor, _ tol: Float = 1e-5, _ what: String,
    file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertEqual(got.shape, want.shape, what, file: file, line: line)
    for (i, (g, w)) in zip(got.toArray(), want.toArray()).enumerated()
    where abs(g - w) > tol * max(1, abs(w)) {
      XCTFail("\(what)[\(i)]: \(g) vs \(w)", file: file, line: line)
      return
    }
  }

  /// Copies the fixture's name → tensor values into the module's tensors of those names.
  func load(_ m: Module, _ values: [String: Tensor]) throws {
    for (name, t) in m.namedParameters() + m.namedBuffers() {
      guard let v = values[name] else { continue }
      t.data.update(from: v.data, count: t.count)
      t.markWritten()
    }
  }

  func testDiracMatchesPyTorch() throws {
    for shape in [[6, 4, 3, 3], [3, 5, 4], [2, 3, 3, 2, 3]] {
      let w = Tensor(zeros: shape)
      Init.normal(w)
      try Init.dirac(w)
      let want = try FixtureCase.named("dirac_" + shape.map(String.init).joined(separator: "x"))
      assertClose(w, try want.tensor("output"), 0, "dirac \(shape)")
    }
    XCTAssertThrowsError(try Init.dirac(Tensor(zeros: [3, 3]))) {
      XCTAssertTrue("\($0)".contains("3, 4 or 5 dimensions"), "\($0)")
    }
  }

  func testDiracOnANarrowedViewWritesTheWeight() throws {
    // airbench: dirac_(w[:cin]) on a conv whose out channels are 2·cin.
    let conv = try Conv2d(3, 6, kernelSize: 3, padding: 1)
    let original = conv.weight.toArray()
    try Init.dirac(try conv.weight.narrow(dim: 0, start: 0, length: 3))
    let w = conv.weight.toArray()
    for o in 0..<6 {
      for i in 0..<3 {
        for k in 0..<9 {
          let at = (o * 3 + i) * 9 + k
          XCTAssertEqual(
            w[at], o < 3 ? (o == i && k == 4 ? 1 : 0) : original[at], "w[\(o),\(i),\(k)]")
        }
      }
    }
    // And through a strided view (every second output channel).
    let strided = try conv.weight.transpose(0, 1).narrow(dim: 1, start: 3, length: 3)
      .transpose(0, 1)
    try Init.dirac(strided)
    XCTAssertEqual(conv.weight.data[(3 * 3 + 0) * 9 + 4], 1)
    XCTAssertEqual(conv.weight.data[(4 * 3 + 1) * 9 + 4], 1)
    XCTAssertEqual(conv.weight.data[(4 * 3 + 0) * 9 + 4], 0)
  }

  func testPatchWhiteningMatchesAirbenchUpToFilterSigns() throws {
    for name in ["whitening_k2", "whitening_k3_eps"] {
      let c = try entry(name)
      let images = try FixtureCase.tensor(c["images"])
      let want = try FixtureCase.tensor(c["weight"])
      let k = try XCTUnwrap(c["kernel"] as? Int)
      let cin = images.shape[1]
      let d = cin * k * k
      let conv = try Conv2d(cin, 2 * d, kernelSize: k)
      try Init.patchWhitening(conv, images: images, eps: try XCTUnwrap(c["eps"] as? Double))
      let (got, w) = (conv.weight.toArray(), want.toArray())
      for j in 0..<(2 * d) {
        let row = j * d..<(j + 1) * d
        let dot = zip(got[row], w[row]).reduce(Float(0)) { $0 + $1.0 * $1.1 }
        let sign: Float = dot < 0 ? -1 : 1
        let scale = w[row].map(abs).max() ?? 1
        for i in row {
          XCTAssertEqual(got[i] * sign, w[i], accuracy: 2e-3 * scale, "\(name) filter \(j)")
        }
      }
      // Filter d + j is the negative of filter j.
      for i in 0..<(d * d) { XCTAssertEqual(got[d * d + i], -got[i]) }
    }
  }

  func testPatchWhiteningErrors() throws {
    let conv = try Conv2d(3, 24, kernelSize: 2)
    for (images, message) in [
      (Tensor(zeros: [2, 3, 8]), "expected images [N, 3, H, W]"),
      (Tensor(zeros: [2, 4, 8, 8]), "the images have 4 channels, the conv takes 3"),
      (Tensor(zeros: [2, 3, 1, 8]), "hold no 2x2 patch"),
    ] {
      XCTAssertThrowsError(try Init.patchWhitening(conv, images: images)) {
        XCTAssertTrue("\($0)".contains(message), "\($0)")
      }
    }
    XCTAssertThrowsError(
      try Init.patchWhitening(
        try Conv2d(3, 12, kernelSize: 2), images: Tensor(zeros: [1, 3, 4, 4]))
    ) { XCTAssertTrue("\($0)".contains("needs 2·3·2·2 = 24"), "\($0)") }
    let nan = Tensor(zeros: [1, 3, 4, 4])
    nan.data[5] = .nan
    XCTAssertThrowsError(try Init.patchWhitening(conv, images: nan)) {
      XCTAssertTrue("\($0)".contains("non-finite"), "\($0)")
    }
  }

  func testLookaheadMatchesAirbenchsLookaheadState() throws {
    let c = try entry("lookahead")
    let model = Sequential([try Linear(4, 3), try BatchNorm1d(3)])
    try load(model, try (c["initial"] as? [String: Any] ?? [:]).mapValues(FixtureCase.tensor))
    let la = try Lookahead(model)
    XCTAssertEqual(la.tensors.count, 6, "weight, bias, γ, β, running_mean, running_var")
    let steps = try XCTUnwrap(c["steps"] as? [[String: Any]])
    XCTAssertEqual(steps.count, 5)
    for (k, step) in steps.enumerated() {
      try load(model, try (step["before"] as? [String: Any] ?? [:]).mapValues(FixtureCase.tensor))
      let tracked = model.namedBuffers().first { $0.name == "1.num_batches_tracked" }!.tensor
      tracked.data[0] = 7
      try la.update(decay: try XCTUnwrap(step["decay"] as? Double))
      let after = try (step["after"] as? [String: Any] ?? [:]).mapValues(FixtureCase.tensor)
      for (name, t) in model.namedParameters() + model.namedBuffers() {
        if name.hasSuffix("num_batches_tracked") {
          XCTAssertEqual(t.data[0], 7, "num_batches_tracked is not averaged")
          continue
        }
        assertClose(t, try XCTUnwrap(after[name], name), 1e-6, "update \(k): \(name)")
      }
    }
    XCTAssertEqual(la.updates, 5)
  }

  func testLookaheadByHand() throws {
    // ema₀ = 1; net 3, decay 0.75: ema = 1 + 0.25·(3 − 1) = 1.5, net ← 1.5.
    // Then net 0.5, decay 0: ema = net = 0.5. Then decay 1: ema stays, net ← 0.5.
    let p = try Tensor(shape: [1], values: [1])
    let la = try Lookahead([p])
    p.data[0] = 3
    try la.update(decay: 0.75)
    XCTAssertEqual(p.data[0], 1.5)
    p.data[0] = 0.5
    try la.update(decay: 0)
    XCTAssertEqual(p.data[0], 0.5)
    p.data[0] = 9
    try la.update(decay: 1)
    XCTAssertEqual(p.data[0], 0.5)
    for bad in [-0.1, 1.5, .nan] {
      XCTAssertThrowsError(try la.update(decay: bad)) {
        XCTAssertTrue("\($0)".contains("must be in [0, 1]"), "\($0)")
      }
    }
  }

  func testLambdaLRFollowsPyTorch() throws {
    let c = try entry("lambda_lr_airbench")
    let total = try XCTUnwrap(c["total_steps"] as? Int)
    let want = try XCTUnwrap(c["lrs"] as? [[Double]])
    let opt = try ParamGroups([
      try SGD([Tensor(zeros: [2])], lr: 0.1, momentum: 0.9),
      try SGD([Tensor(zeros: [3])], lr: 0.02, momentum: 0.9),
    ])
    // airbench94's get_lr: 0.2 → 1 over the first 23 % of the steps, then → 0.07.
    let warmup = Int(Double(total) * 0.23)
    let sched = try LambdaLR(opt) { step in
      if step < warmup {
        let frac = Double(step) / Double(warmup)
        return 0.2 * (1 - frac) + 1.0 * frac
      }
      let frac = Double(step - warmup) / Double(total - warmup)
      return 1.0 * (1 - frac) + 0.07 * frac
    }
    for (k, lrs) in want.enumerated() {
      if k > 0 { try sched.step() }
      for (g, w) in zip(opt.groupLRs, lrs) { XCTAssertEqual(g, w, accuracy: 1e-15 * max(1, w)) }
    }
  }

  func testLambdaLRRejectsBadFactorsAndPassesErrorsOn() throws {
    let opt = try SGD([Tensor(zeros: [1])], lr: 0.1)
    for bad in [-1.0, .nan, .infinity] {
      XCTAssertThrowsError(try LambdaLR(opt) { _ in bad }) {
        XCTAssertTrue("\($0)".contains("must be a finite number ≥ 0"), "\($0)")
      }
    }
    let sched = try LambdaLR(opt) { t in
      if t == 2 { throw TensorError("boom at 2") }
      return Double(t + 1)
    }
    try sched.step()
    XCTAssertEqual(opt.lr, 0.2, accuracy: 1e-12)
    XCTAssertThrowsError(try sched.step()) { XCTAssertEqual("\($0)", "boom at 2") }
    XCTAssertEqual(sched.epoch, 1, "a failed step leaves the epoch and lr as they were")
    XCTAssertEqual(opt.lr, 0.2, accuracy: 1e-12)
    // Inside the wrappers: SequentialLR and Warmup prepare the schedule they read.
    let opt2 = try SGD([Tensor(zeros: [1])], lr: 1)
    let lambda = try LambdaLR(opt2) { t in 1 / Double(t + 1) }
    let cosine = try CosineLR(opt2, tMax: 4)
    let seq = try SequentialLR(opt2, schedules: [lambda, cosine], milestones: [3])
    var lrs = [opt2.lr]
    for _ in 0..<3 {
      try seq.step()
      lrs.append(opt2.lr)
    }
    XCTAssertEqual(lrs, [1, 0.5, 1.0 / 3, 1])
  }

  func testCrossEntropyLabelSmoothingSumMatchesPyTorch() throws {
    let c = try entry("ce_smoothing02_sum")
    let logits = try FixtureCase.tensor(c["logits"])
    logits.requiresGrad = true
    let labels = try Tensor(
      shape: [8], values: try XCTUnwrap(c["labels"] as? [Int]).map(Float.init))
    let loss = try CrossEntropyLoss(weight: nil, labelSmoothing: 0.2, reduction: .sum)(
      logits, labels)
    XCTAssertEqual(Double(try loss.item()), try XCTUnwrap(c["loss"] as? Double), accuracy: 1e-4)
    try loss.backward()
    assertClose(try XCTUnwrap(logits.grad), try FixtureCase.tensor(c["grad"]), 1e-5, "grad")
  }

  /// airbench toggles requires_grad between epochs (the whitening bias trains for a few
  /// epochs only); PyTorch's zero_grad(set_to_none) then gives a frozen parameter no
  /// gradient and SGD skips it: no weight decay, its momentum buffer kept.
  func testSGDSkipsFrozenParametersLikePyTorch() throws {
    let c = try entry("sgd_frozen")
    let conv = try Conv2d(2, 3, kernelSize: 3, padding: 1)
    let bn = try BatchNorm2d(3)
    let lin = try Linear(3 * 4 * 4, 5)
    let model = Sequential([conv, bn, ReLU(), Flatten(), lin])
    try load(model, try (c["start"] as? [String: Any] ?? [:]).mapValues(FixtureCase.tensor))
    let x = try FixtureCase.tensor(c["x"])
    let y = try Tensor(shape: [6], values: try XCTUnwrap(c["labels"] as? [Int]).map(Float.init))
    let opt = try ParamGroups([
      try SGD(
        [conv.weight, conv.bias!, bn.weight, bn.bias], lr: 0.1, momentum: 0.9, weightDecay: 5e-4,
        nesterov: true),
      try SGD(lin.parameters(), lr: 0.05, momentum: 0.9, weightDecay: 0, nesterov: true),
    ])
    let loss = try CrossEntropyLoss(weight: nil, labelSmoothing: 0.2, reduction: .sum)
    let plan = try XCTUnwrap(c["plan"] as? [[Bool]])
    let losses = try XCTUnwrap(c["losses"] as? [Double])
    for (k, trains) in plan.enumerated() {
      for (p, on) in zip([conv.weight, conv.bias!, bn.weight], trains) { p.requiresGrad = on }
      opt.zeroGrad()
      let l = try loss(try model(x), y)
      try l.backward()
      for (p, on) in zip([conv.weight, conv.bias!, bn.weight], trains) {
        XCTAssertEqual(p.grad != nil, on, "step \(k): a frozen parameter gets no gradient")
      }
      try opt.step()
      XCTAssertEqual(Double(try l.item()), losses[k], accuracy: 1e-4 * losses[k], "loss \(k)")
    }
    let end = try (c["end"] as? [String: Any] ?? [:]).mapValues(FixtureCase.tensor)
    // PyTorch's num_batches_tracked is int64, left out of the fixture (6 here too).
    for (name, t) in model.namedParameters() + model.namedBuffers() {
      guard let want = end[name] else {
        XCTAssertEqual(name, "1.num_batches_tracked")
        XCTAssertEqual(t.data[0], 6)
        continue
      }
      assertClose(t, want, 2e-5, name)
    }
  }

  func testMulConstant() throws {
    let m = try MulConstant(0.125)
    let x = try Tensor(shape: [2, 2], values: [1, -2, 4, 8])
    x.requiresGrad = true
    let y = try Sequential([m, Identity()])(x)
    XCTAssertEqual(y.toArray(), [0.125, -0.25, 0.5, 1])
    try y.sum().backward(Tensor(scalar: 2))
    XCTAssertEqual(x.grad?.toArray(), [0.25, 0.25, 0.25, 0.25])
    let tree = Sequential([m]).treeDescription
    XCTAssertTrue(tree.contains("MulConstant(scale 0.125)"), tree)
    XCTAssertThrowsError(try MulConstant(.infinity))
  }
}
