import Foundation
import MoonlabTensor
import TestSupport
import XCTest

/// The math ops of issue 14 (comparisons, rounding, clamp, reductions with indices,
/// statistics, sort/topk, cumsum, range factories) against PyTorch, outputs and gradients,
/// from Fixtures/math_fixtures.json written by scripts/fixtures_math.py.
final class MathFixtureTests: XCTestCase {
  struct Values: Decodable {
    let shape: [Int]
    let values: [Float]
  }
  struct Params: Decodable {
    let dim: Int?
    let keepdim: Bool?
    let correction: Int?
    let p: Float?
    let min: Float?
    let max: Float?
    let k: Int?
    let descending: Bool?
    let largest: Bool?
    let start: Double?
    let end: Double?
    let step: Double?
    let steps: Int?
    let n: Int?
    let m: Int?
  }
  struct Case: Decodable {
    let name: String
    let op: String
    let params: Params
    let inputs: [Values]
    let outputs: [Values]
    let gradOutput: Values?
    let grads: [Values]?
    enum CodingKeys: String, CodingKey {
      case name, op, params, inputs, outputs, grads
      case gradOutput = "grad_output"
    }
  }
  struct Fixture: Decodable { let cases: [Case] }

  func load() throws -> [Case] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/math_fixtures.json")
    let decoder = JSONDecoder()
    // The max norm's p is written "inf" (JSON has no infinity).
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return try decoder.decode(Fixture.self, from: Data(contentsOf: url)).cases
  }

  /// The op's outputs (values first, then indices where it returns both).
  func apply(_ c: Case, _ x: [Tensor]) throws -> [Tensor] {
    let p = c.params
    let keep = p.keepdim ?? false
    let correction = p.correction ?? 1
    func pair(_ r: (values: Tensor, indices: Tensor)) -> [Tensor] { [r.values, r.indices] }
    switch (c.op, p.dim) {
    case ("eq", _): return [try x[0].eq(x[1])]
    case ("ne", _): return [try x[0].ne(x[1])]
    case ("lt", _): return [try x[0].lt(x[1])]
    case ("le", _): return [try x[0].le(x[1])]
    case ("gt", _): return [try x[0].gt(x[1])]
    case ("ge", _): return [try x[0].ge(x[1])]
    case ("floor", _): return [x[0].floor()]
    case ("ceil", _): return [x[0].ceil()]
    case ("round", _): return [x[0].round()]
    case ("sign", _): return [x[0].sign()]
    case ("abs", _): return [x[0].abs()]
    case ("sqrt", _): return [x[0].sqrt()]
    case ("log1p", _): return [x[0].log1p()]
    case ("pow", _): return [x.count == 2 ? try x[0].pow(x[1]) : x[0].pow(p.p ?? 1)]
    case ("clamp", _): return [x[0].clamp(min: p.min, max: p.max)]
    case ("max", nil): return [try x[0].max()]
    case ("max", let d?): return pair(try x[0].maxWithIndices(dim: d, keepDim: keep))
    case ("min", nil): return [try x[0].minimum()]
    case ("min", let d?): return pair(try x[0].minWithIndices(dim: d, keepDim: keep))
    case ("argmax", let d?): return [try x[0].argmax(dim: d)]
    case ("argmin", let d?): return [try x[0].argmin(dim: d)]
    case ("sum", let d?): return [try x[0].sum(dim: d, keepDim: keep)]
    case ("mean", let d?): return [try x[0].mean(dim: d, keepDim: keep)]
    case ("var", nil): return [x[0].variance(correction: correction)]
    case ("var", let d?): return [try x[0].variance(dim: d, keepDim: keep, correction: correction)]
    case ("std", nil): return [x[0].std(correction: correction)]
    case ("std", let d?): return [try x[0].std(dim: d, keepDim: keep, correction: correction)]
    case ("prod", nil): return [x[0].prod()]
    case ("prod", let d?): return [try x[0].prod(dim: d, keepDim: keep)]
    case ("norm", nil): return [try x[0].norm(p: p.p ?? 2)]
    case ("norm", let d?): return [try x[0].norm(p: p.p ?? 2, dim: d, keepDim: keep)]
    case ("cumsum", let d?): return [try x[0].cumsum(dim: d)]
    case ("sort", let d?): return pair(try x[0].sort(dim: d, descending: p.descending ?? false))
    case ("topk", let d?): return pair(try x[0].topk(p.k ?? 1, dim: d, largest: p.largest ?? true))
    case ("any", nil): return [x[0].any()]
    case ("any", let d?): return [try x[0].any(dim: d)]
    case ("all", nil): return [x[0].all()]
    case ("all", let d?): return [try x[0].all(dim: d)]
    case ("arange", _):
      return [try Tensor.arange(start: p.start ?? 0, end: p.end ?? 0, step: p.step ?? 1)]
    case ("linspace", _):
      return [try Tensor.linspace(p.start ?? 0, p.end ?? 0, steps: p.steps ?? 0)]
    case ("eye", _): return [try Tensor.eye(p.n ?? 0, p.m)]
    default: throw TensorError("fixture: unknown op \(c.op)")
    }
  }

  /// Within 1e-5 of PyTorch relative to the largest magnitude in the tensor (an element
  /// that nearly cancels carries rounding of the size of its terms).
  func assertMatches(_ got: Tensor, _ want: Values, _ what: String) {
    XCTAssertEqual(got.shape, want.shape, what)
    let scale = want.values.map(abs).max() ?? 0
    assertClose(got.toArray(), want.values, rtol: 1e-5, atol: 1e-5 * scale, what)
  }

  func testMathOpsMatchPyTorch() throws {
    let cases = try load()
    XCTAssertGreaterThanOrEqual(cases.count, 130)
    for c in cases {
      let inputs = try c.inputs.map { v -> Tensor in
        let t = try Tensor(shape: v.shape, values: v.values)
        t.requiresGrad = c.grads != nil
        return t
      }
      let outputs = try apply(c, inputs)
      XCTAssertEqual(outputs.count, c.outputs.count, c.name)
      for (k, (got, want)) in zip(outputs, c.outputs).enumerated() {
        assertMatches(got, want, "\(c.name) output \(k + 1)")
      }
      guard let g = c.gradOutput, let grads = c.grads else { continue }
      XCTAssertTrue(outputs[0].requiresGrad, "\(c.name): output has no gradient")
      try outputs[0].backward(try Tensor(shape: g.shape, values: g.values))
      for (k, (x, want)) in zip(inputs, grads).enumerated() {
        assertMatches(x.grad ?? Tensor(zeros: x.shape), want, "\(c.name) grad of input \(k + 1)")
      }
    }
  }
}
