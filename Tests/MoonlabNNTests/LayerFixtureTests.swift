import MoonlabTensor
import TestSupport
import XCTest

@testable import MoonlabNN

/// The layers of issue 14 against PyTorch (scripts/fixtures_layers.py): outputs and every
/// gradient within 1e-4, then gradcheck of the input (and initial state) gradients.
final class LayerFixtureTests: XCTestCase {
  func testActivations() throws {
    try check("gelu", GELU())
    try check("gelu_tanh", GELU(approximate: true))
    try check("silu", SiLU())
    try check("leaky_relu", LeakyReLU(slope: 0.2))
    try check("elu", ELU(alpha: 0.7))
    try check("softplus", Softplus(beta: 2, threshold: 3))
    try check("log_softmax", LogSoftmax(dim: 1))
  }

  func testLayerNorm() throws {
    try check("layer_norm", LayerNorm([5]))
    try check("layer_norm_2d", LayerNorm([3, 4]))
    try check("layer_norm_no_affine", LayerNorm([6], elementwiseAffine: false))
  }

  func testGroupNormAndResampling() throws {
    try check("group_norm", GroupNorm(2, 4))
    try check("group_norm_no_affine", GroupNorm(3, 6, affine: false))
    try check("adaptive_avg_pool", AdaptiveAvgPool2d(3, 4))
    try check("adaptive_avg_pool_1x1", AdaptiveAvgPool2d(1, 1))
    try check("upsample2", Upsample(scaleFactor: 2))
    try check("upsample1_5", Upsample(scaleFactor: 1.5))
  }

  func testConv1d() throws {
    try check("conv1d", Conv1d(3, 4, kernelSize: 3))
    try check("conv1d_s2p2_k5", Conv1d(2, 5, kernelSize: 5, stride: 2, padding: 2))
    try check("conv1d_k1_nobias", Conv1d(4, 3, kernelSize: 1, bias: false))
    try check("conv1d_long", Conv1d(2, 3, kernelSize: 3))
    try inRun(threads: 2, splitTinyBatches: true) {
      try check("conv1d_s2p2_k5", Conv1d(2, 5, kernelSize: 5, stride: 2, padding: 2))
    }
  }

  func testConvTranspose2d() throws {
    try check(
      "conv_transpose_s2p1op1",
      ConvTranspose2d(3, 4, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1))
    try check("conv_transpose_winograd", ConvTranspose2d(8, 8, kernelSize: 3, padding: 1))
    try check(
      "conv_transpose_k2s2_nobias", ConvTranspose2d(2, 3, kernelSize: 2, stride: 2, bias: false))
    try inRun(threads: 2, splitTinyBatches: true) {
      try check(
        "conv_transpose_s2p1op1",
        ConvTranspose2d(3, 4, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1))
    }
  }

  /// Frozen Linear and convolution layers skip their weight gradients and still pass dX on.
  func testFrozenLayersHaveNoWeightGradient() throws {
    let layers: [(Module, [Int])] = [
      (try Conv2d(3, 4, kernelSize: 3, padding: 1), [2, 3, 5, 5]),
      (try ConvTranspose2d(3, 4, kernelSize: 3, stride: 2), [2, 3, 5, 5]),
      (try Linear(5, 3), [4, 5]), (try LayerNorm([5]), [4, 5]),
      (try Conv1d(3, 2, kernelSize: 3), [2, 3, 8]),
    ]
    for (m, shape) in layers {
      m.freeze()
      let x = testTensor(shape)
      x.requiresGrad = true
      try m(x).sum().backward()
      XCTAssertNotNil(x.grad, m.typeName)
      XCTAssertTrue(m.parameters().allSatisfy { $0.grad == nil }, m.typeName)
    }
  }

  /// Whole channels are kept (scaled by 1/(1 − p)) or zeroed, and the gradient follows.
  func testDropout2dDropsWholeChannels() throws {
    let m = try Dropout2d(0.5)
    let x = Tensor(zeros: [4, 8, 3, 3])
    x.data.update(repeating: 1, count: x.count)
    x.requiresGrad = true
    let y = try m(x)
    try y.sum().backward()
    let (values, grads) = (y.toArray(), try XCTUnwrap(x.grad).toArray())
    var kept = 0
    for plane in 0..<32 {
      let run = Set(values[plane * 9..<(plane + 1) * 9])
      XCTAssertTrue(run == [0] || run == [2], "plane \(plane): \(run)")
      XCTAssertEqual(Set(grads[plane * 9..<(plane + 1) * 9]), run)
      kept += run == [2] ? 1 : 0
    }
    XCTAssertTrue((6...26).contains(kept), "\(kept) of 32 channels kept")
    m.eval()
    XCTAssertTrue(try m(x) === x)
  }

  func testEmbeddingRowsAndGradientSkipPadding() throws {
    let c = try FixtureCase.named("embedding")
    let m = try Embedding(7, 4, paddingIndex: 2)
    XCTAssertEqual(Array(m.weight.toArray()[8..<12]), [0, 0, 0, 0], "padding row starts at 0")
    load(c, into: m)
    let y = try m(try c.inputs()[0])
    assertMatches(y, try c.tensor("output"), "embedding output")
    try y.backward(try c.tensor("grad_output"))
    assertMatches(try XCTUnwrap(m.weight.grad), try c.tensors("grads")["weight"]!, "embedding dW")
    XCTAssertThrowsError(try m(try Tensor(shape: [2], values: [1, 7]))) { error in
      XCTAssertEqual(
        "\(error)", "Embedding: index 7.0 at position 1 is not in 0..<7 (the table has 7 rows)")
    }
  }

  func testLSTMAndGRUWithStatesAgainstPyTorch() throws {
    try checkRecurrent("lstm", LSTM(4, 6))
    try checkRecurrent("lstm_2layer_batch_first", LSTM(3, 5, numLayers: 2, batchFirst: true))
    try checkRecurrent("gru", GRU(4, 6))
    try checkRecurrent("gru_2layer_batch_first", GRU(3, 5, numLayers: 2, batchFirst: true))
  }

  /// A frozen LSTM still passes gradients to its input, and leaves its weights' grads nil.
  func testFrozenRecurrentLayerSkipsWeightGradients() throws {
    let m = try LSTM(3, 4, numLayers: 2)
    m.freeze()
    let x = testTensor([5, 2, 3])
    x.requiresGrad = true
    try m(x).sum().backward()
    XCTAssertNotNil(x.grad)
    XCTAssertTrue(m.parameters().allSatisfy { $0.grad == nil && !$0.requiresGrad })
    m.unfreeze()
    try m(x).sum().backward()
    XCTAssertTrue(m.parameters().allSatisfy { $0.grad != nil })
  }

  func testGradcheck() throws {
    let layers: [(Module, [Int])] = [
      (GELU(), [3, 4]), (GELU(approximate: true), [3, 4]), (SiLU(), [3, 4]),
      (LeakyReLU(slope: 0.1), [3, 4]), (ELU(alpha: 0.5), [3, 4]),
      (Softplus(beta: 1.5, threshold: 2), [3, 4]), (LogSoftmax(dim: 0), [3, 4]),
      (try LayerNorm([4]), [3, 4]), (try LayerNorm([2, 3], elementwiseAffine: false), [2, 2, 3]),
      (try GroupNorm(2, 4), [2, 4, 3]), (try AdaptiveAvgPool2d(2, 3), [1, 2, 5, 4]),
      (try Upsample(scaleFactor: 1.5), [1, 2, 3, 3]),
      (
        try ConvTranspose2d(2, 3, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1),
        [2, 2, 3, 3]
      ),
      (try Conv1d(2, 3, kernelSize: 3, stride: 2, padding: 1), [2, 2, 7]),
    ]
    for (m, shape) in layers {
      // Inputs away from the kinks of LeakyReLU/ELU and Softplus's threshold.
      let x = testTensor(shape)
      for i in 0..<x.count where abs(x.data[i]) < 0.05 || abs(1.5 * x.data[i] - 2) < 0.05 {
        x.data[i] += 0.2
      }
      let (ok, err) = try gradcheck({ try m($0[0]) }, inputs: [x])
      XCTAssertTrue(ok, "\(m.typeName): max error \(err)")
    }
    let stacks: [RecurrentStack] = [
      try LSTM(3, 4, numLayers: 2), try GRU(3, 4, numLayers: 2, batchFirst: true),
      try RNN(3, 4, numLayers: 2),
    ]
    for m in stacks {
      let states = (0..<m.stateCount).map { testTensor([2, 2, 4], seed: UInt64(7 + $0)) }
      for k in 0...m.stateCount {
        let (ok, err) = try gradcheck(
          { try m.forward($0[0], states: Array($0.dropFirst()))[k] },
          inputs: [testTensor(m.batchFirst ? [2, 3, 3] : [3, 2, 3])] + states)
        XCTAssertTrue(ok, "\(m.typeName) output \(k): max error \(err)")
      }
    }
  }

  /// Every parameter's gradient against central differences (independent of PyTorch):
  /// the new layers, and the older ones on the same footing (Conv2d on both its im2col
  /// and Winograd paths).
  func testParameterGradientsAgainstFiniteDifferences() throws {
    let layers: [(Module, [Int])] = [
      (try Linear(3, 4), [2, 3]),
      (try Conv2d(2, 3, kernelSize: 3, stride: 2, padding: 1), [2, 2, 5, 5]),
      (try Conv2d(8, 2, kernelSize: 3, padding: 1), [1, 8, 4, 4]),
      (try Conv1d(2, 3, kernelSize: 3, stride: 2, padding: 1), [2, 2, 7]),
      (
        try ConvTranspose2d(2, 3, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1),
        [2, 2, 3, 3]
      ),
      (try LayerNorm([5]), [3, 5]), (try GroupNorm(2, 4), [2, 4, 3]),
      (try BatchNorm2d(3), [4, 3, 2, 2]),
    ]
    for (m, shape) in layers {
      let x = testTensor(shape)
      let (ok, err) = try gradcheck({ _ in try m(x) }, inputs: [], parameters: m.parameters())
      XCTAssertTrue(ok, "\(m.typeName) parameters: max error \(err)")
    }
    // Without padding_idx: its row gets no gradient by design (as in PyTorch), though the
    // output depends on it, so differences would disagree there.
    let embedding = try Embedding(5, 3)
    let indices = try Tensor(shape: [2, 3], values: [0, 1, 4, 4, 2, 0])
    let (ok, err) = try gradcheck(
      { _ in try embedding(indices) }, inputs: [], parameters: embedding.parameters())
    XCTAssertTrue(ok, "Embedding parameters: max error \(err)")
    let stacks: [RecurrentStack] = [
      try LSTM(3, 4, numLayers: 2), try GRU(3, 4, numLayers: 2, batchFirst: true),
      try RNN(3, 4, numLayers: 2),
    ]
    for m in stacks {
      let x = testTensor(m.batchFirst ? [2, 3, 3] : [3, 2, 3])
      for k in 0...m.stateCount {
        let (ok, err) = try gradcheck(
          { _ in try m.forward(x, states: [])[k] }, inputs: [], parameters: m.parameters())
        XCTAssertTrue(ok, "\(m.typeName) output \(k) parameters: max error \(err)")
      }
    }
  }

  private func load(_ c: FixtureCase, into m: Module) {
    let params = (try? c.tensors("params")) ?? [:]
    for (key, p) in m.namedParameters() {
      guard let value = params[key] else { return XCTFail("no fixture parameter \(key)") }
      XCTAssertEqual(value.shape, p.shape, key)
      p.data.update(from: value.data, count: p.count)
    }
  }

  /// Output sequence and final states, and the gradients of input, initial states and
  /// every parameter from Σ outputs·grad_outputs.
  private func checkRecurrent(
    _ name: String, _ m: RecurrentStack, line: UInt = #line
  ) throws {
    let c = try FixtureCase.named(name)
    load(c, into: m)
    let x = try c.inputs()[0]
    x.requiresGrad = true
    let states = try (c.raw["states"] as? [Any] ?? []).map(FixtureCase.tensor)
    for s in states { s.requiresGrad = true }
    let outputs = try m.forward(x, states: states)
    let expected = try (c.raw["outputs"] as? [Any] ?? []).map(FixtureCase.tensor)
    let grads = try (c.raw["grad_outputs"] as? [Any] ?? []).map(FixtureCase.tensor)
    XCTAssertEqual(outputs.count, expected.count, line: line)
    var loss = Tensor(zeros: [])
    for (k, (y, e)) in zip(outputs, expected).enumerated() {
      assertMatches(y, e, "\(name) output \(k)", line: line)
      loss = try loss.add(try y.mul(grads[k]).sum())
    }
    try loss.backward()
    assertMatches(try XCTUnwrap(x.grad), try c.tensor("grad_input"), "\(name) dx", line: line)
    let expectedStates = try (c.raw["grad_states"] as? [Any] ?? []).map(FixtureCase.tensor)
    for (k, (s, e)) in zip(states, expectedStates).enumerated() {
      assertMatches(try XCTUnwrap(s.grad), e, "\(name) d state \(k)", line: line)
    }
    let expectedGrads = try c.tensors("grads")
    for (key, p) in m.namedParameters() {
      assertMatches(
        try XCTUnwrap(p.grad, key), try XCTUnwrap(expectedGrads[key]), "\(name) grad \(key)",
        line: line)
    }
  }
}
