import Foundation
import MoonlabTensor
import TestSupport
import XCTest

/// Random op chains replayed against PyTorch's outputs and gradients (issue 3, item 3),
/// from Fixtures/tensor_chains.json written by scripts/fixtures_tensor.py.
final class PyTorchFixtureTests: XCTestCase {
  struct Fixture: Decodable {
    struct Values: Decodable {
      let shape: [Int]
      let values: [Float]
    }
    struct Op: Decodable {
      let op: String
      let args: [String]
      let dim: Int?
      let keepdim: Bool?
      let p: Float?
      let shape: [Int]?
    }
    struct Case: Decodable {
      let name: String
      let inputs: [Values]
      let ops: [Op]
      let gradOutput: Values
      let output: Values
      let grads: [Values]
      enum CodingKeys: String, CodingKey {
        case name, inputs, ops, output, grads
        case gradOutput = "grad_output"
      }
    }
    let cases: [Case]
  }

  func load() throws -> Fixture {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/tensor_chains.json")
    return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
  }

  func apply(_ op: Fixture.Op, _ a: [Tensor]) throws -> Tensor {
    let x = a[0]
    switch op.op {
    case "add": return try x.add(a[1])
    case "sub": return try x.sub(a[1])
    case "mul": return try x.mul(a[1])
    case "div": return try x.div(a[1])
    case "matmul": return try x.matmul(a[1])
    case "exp": return x.exp()
    case "log": return x.log()
    case "sqrt": return x.sqrt()
    case "abs": return x.abs()
    case "neg": return x.neg()
    case "relu": return x.relu()
    case "sigmoid": return x.sigmoid()
    case "tanh": return x.tanh()
    case "pow": return x.pow(op.p ?? 1)
    case "add_scalar": return x.add(op.p ?? 0)
    case "mul_scalar": return x.mul(op.p ?? 1)
    case "t": return try x.transposed()
    case "reshape": return try x.reshape(op.shape ?? [])
    case "softmax": return try x.softmax(dim: op.dim ?? 0)
    case "log_softmax": return try x.logSoftmax(dim: op.dim ?? 0)
    case "sum":
      return try op.dim.map { try x.sum(dim: $0, keepDim: op.keepdim ?? false) } ?? x.sum()
    case "mean":
      return try op.dim.map { try x.mean(dim: $0, keepDim: op.keepdim ?? false) } ?? x.mean()
    case "max":
      return try op.dim.map { try x.max(dim: $0, keepDim: op.keepdim ?? false) } ?? x.max()
    default: throw TensorError("fixture: unknown op \(op.op)")
    }
  }

  /// Within 1e-5 of the reference relative to the tensor's largest magnitude: an element
  /// that nearly cancels (a small gradient summed from large terms) carries float32
  /// rounding of the size of those terms, which no element-relative test could accept.
  func assertMatches(_ got: Tensor, _ want: Fixture.Values, _ what: String) {
    XCTAssertEqual(got.shape, want.shape, what)
    let scale = want.values.map(abs).max() ?? 0
    let gv = got.toArray()
    guard gv.count == want.values.count else { return }
    for (i, (g, w)) in zip(gv, want.values).enumerated() where !(abs(g - w) <= 1e-5 * scale) {
      XCTFail("\(what): element \(i): \(g) vs PyTorch \(w)")
      return
    }
  }

  func testRandomChainsMatchPyTorch() throws {
    let fixture = try load()
    XCTAssertGreaterThanOrEqual(fixture.cases.count, 40)
    for c in fixture.cases {
      let inputs = try c.inputs.map { v -> Tensor in
        let t = try Tensor(shape: v.shape, values: v.values)
        t.requiresGrad = true
        return t
      }
      var results: [Tensor] = []
      for op in c.ops {
        let args = try op.args.map { name -> Tensor in
          guard let k = Int(name.dropFirst()) else {
            throw TensorError("fixture: bad operand \(name)")
          }
          return name.hasPrefix("x") ? inputs[k] : results[k]
        }
        results.append(try apply(op, args))
      }
      guard let out = results.last else { continue }
      assertMatches(out, c.output, "\(c.name) output")
      try out.backward(try Tensor(shape: c.gradOutput.shape, values: c.gradOutput.values))
      for (k, (x, want)) in zip(inputs, c.grads).enumerated() {
        assertMatches(x.grad ?? Tensor(zeros: x.shape), want, "\(c.name) grad of x\(k)")
      }
    }
  }
}
