import Foundation
import MoonlabNN
import MoonlabTensor
import XCTest

/// Cases written by scripts/fixtures_nn.py and scripts/fixtures_layers.py (PyTorch), read
/// from Fixtures/nn_fixtures.json, conv_bn_fixtures.json and layer_fixtures.json.
struct FixtureCase {
  let raw: [String: Any]

  static let all: [String: FixtureCase] = {
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures")
    var cases: [String: FixtureCase] = [:]
    for file in [
      "nn_fixtures.json", "conv_bn_fixtures.json", "training_fixtures.json", "layer_fixtures.json",
      "speedrun_fixtures.json",
    ] {
      guard let data = try? Data(contentsOf: folder.appendingPathComponent(file)),
        let json = try? JSONSerialization.jsonObject(with: data) as? [String: [String: Any]]
      else { continue }
      cases.merge(json.mapValues(FixtureCase.init)) { first, _ in first }
    }
    return cases
  }()

  static func named(_ name: String) throws -> FixtureCase {
    guard let c = all[name] else {
      throw TensorError("fixture '\(name)' missing: run scripts/fixtures_nn.py")
    }
    return c
  }

  static func tensor(_ any: Any?) throws -> Tensor {
    guard let d = any as? [String: Any], let shape = d["shape"] as? [Int],
      let data = d["data"] as? [Double]
    else {
      throw TensorError("fixture: malformed tensor")
    }
    return try Tensor(shape: shape, values: data.map(Float.init))
  }

  func tensor(_ key: String) throws -> Tensor { try FixtureCase.tensor(raw[key]) }

  func tensors(_ key: String) throws -> [String: Tensor] {
    try (raw[key] as? [String: Any] ?? [:]).mapValues(FixtureCase.tensor)
  }

  func inputs() throws -> [Tensor] { try (raw["inputs"] as? [Any] ?? []).map(FixtureCase.tensor) }
}

extension XCTestCase {
  /// Loads the case's parameters and buffers into `m`, runs it on each input (train or
  /// eval), backpropagates sum(output · grad_output) from the last one and compares.
  func check(
    _ name: String, _ m: Module, train: Bool = true, file: StaticString = #filePath,
    line: UInt = #line
  ) throws {
    let c = try FixtureCase.named(name)
    let params = try c.tensors("params")
    let buffers = try c.tensors("buffers_before")
    for (key, p) in m.namedParameters() {
      let value = try XCTUnwrap(
        params[key], "\(name): no fixture parameter \(key)", file: file, line: line)
      XCTAssertEqual(value.shape, p.shape, "\(name).\(key)", file: file, line: line)
      p.data.update(from: value.data, count: p.count)
    }
    for (key, b) in m.namedBuffers() {
      if let value = buffers[key] { b.data.update(from: value.data, count: b.count) }
    }
    m.train(train)
    var x = Tensor(zeros: [])
    var y = Tensor(zeros: [])
    for input in try c.inputs() {
      m.zeroGrad()
      x = input.detach()
      x.requiresGrad = true
      y = try m(x)
    }
    assertMatches(y, try c.tensor("output"), "\(name) output", file: file, line: line)
    try y.backward(try c.tensor("grad_output"))
    assertMatches(
      try XCTUnwrap(x.grad), try c.tensor("grad_input"), "\(name) grad input", file: file,
      line: line)
    let grads = try c.tensors("grads")
    for (key, p) in m.namedParameters() {
      let expected = try XCTUnwrap(grads[key], file: file, line: line)
      assertMatches(
        try XCTUnwrap(p.grad, "\(name).\(key) has no grad"), expected, "\(name) grad \(key)",
        file: file, line: line)
    }
    for (key, b) in m.namedBuffers() {
      let expected = try XCTUnwrap(
        try c.tensors("buffers")[key], "\(name): buffer \(key)", file: file, line: line)
      assertMatches(b, expected, "\(name) buffer \(key)", file: file, line: line)
    }
  }
}

/// |a − b| ≤ 1e-4·|b| + 1e-5 elementwise: the acceptance tolerance (1e-4 relative), with a
/// small absolute floor for values that are zero in PyTorch.
func assertMatches(
  _ a: Tensor, _ b: Tensor, _ what: String, file: StaticString = #filePath, line: UInt = #line
) {
  XCTAssertEqual(a.shape, b.shape, "\(what): shape", file: file, line: line)
  let pa = a.toArray()
  let pb = b.toArray()
  guard pa.count == pb.count else { return }
  for i in 0..<pa.count where !(abs(pa[i] - pb[i]) <= 1e-4 * abs(pb[i]) + 1e-5) {
    XCTFail("\(what): element \(i): \(pa[i]) vs PyTorch \(pb[i])", file: file, line: line)
    return
  }
}
