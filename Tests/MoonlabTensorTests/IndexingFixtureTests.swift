import Foundation
import MoonlabTensor
import TestSupport
import XCTest

/// Indexing, view, join and split ops against PyTorch's outputs and gradients, from
/// Fixtures/indexing_fixtures.json written by scripts/fixtures_indexing.py.
final class IndexingFixtureTests: XCTestCase {
  struct Fixture: Decodable {
    struct Values: Decodable {
      let shape: [Int]
      let values: [Float]
      func tensor() throws -> Tensor { try Tensor(shape: shape, values: values) }
    }
    struct Item: Decodable {
      let kind: String
      let bounds: [Int]
    }
    struct Params: Decodable {
      let items: [Item]?
      let dim, start, length, index, size, chunks: Int?
      let dims, sizes: [Int]?
      let value: Float?
    }
    struct Case: Decodable {
      let name, op: String
      let params: Params
      let inputs, aux, outputs, grads: [Values]
      let gradOutputs: [Values]
      enum CodingKeys: String, CodingKey {
        case name, op, params, inputs, aux, outputs, grads
        case gradOutputs = "grad_outputs"
      }
    }
    let cases: [Case]
  }

  func load() throws -> Fixture {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/indexing_fixtures.json")
    return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
  }

  /// The op of case `c` on inputs `x` and auxiliary tensors `aux`.
  func apply(_ c: Fixture.Case, _ x: [Tensor], _ aux: [Tensor]) throws -> [Tensor] {
    let p = c.params
    let dim = p.dim ?? 0
    switch c.op {
    case "index":
      let items = (p.items ?? []).map { item -> Tensor.Index in
        switch item.kind {
        case "at": return .at(item.bounds[0])
        case "range": return .range(item.bounds[0]..<item.bounds[1])
        default: return .all
        }
      }
      return [try x[0].index(items)]
    case "narrow": return [try x[0].narrow(dim: dim, start: p.start ?? 0, length: p.length ?? 0)]
    case "select": return [try x[0].select(dim: dim, index: p.index ?? 0)]
    case "transpose": return [try x[0].transpose(p.dims?[0] ?? 0, p.dims?[1] ?? 0)]
    case "permute": return [try x[0].permute(p.dims ?? [])]
    case "expand": return [try x[0].expand(p.sizes ?? [])]
    case "flip": return [try x[0].flip(p.dims ?? [])]
    case "repeat": return [try x[0].repeatTensor(p.sizes ?? [])]
    case "squeeze": return [try x[0].squeeze(dim: dim)]
    case "unsqueeze": return [try x[0].unsqueeze(dim: dim)]
    case "index_select": return [try x[0].indexSelect(dim: dim, index: aux[0])]
    case "gather": return [try x[0].gather(dim: dim, index: aux[0])]
    case "scatter_add": return [try x[0].scatterAdd(dim: dim, index: aux[0], source: x[1])]
    case "scatter_add_":
      let y = x[0].clone()
      try y.scatterAddInPlace(dim: dim, index: aux[0], source: x[1])
      return [y]
    case "masked": return [try x[0].masked(aux[0])]
    case "masked_fill": return [try x[0].maskedFill(aux[0], p.value ?? 0)]
    case "where": return [try Tensor.where(aux[0], x[0], x[1])]
    case "cat": return [try Tensor.cat(x, dim: dim)]
    case "stack": return [try Tensor.stack(x, dim: dim)]
    case "split": return try x[0].split(size: p.size ?? 1, dim: dim)
    case "chunk": return try x[0].chunk(p.chunks ?? 1, dim: dim)
    default: throw TensorError("fixture: unknown op \(c.op)")
    }
  }

  func testOpsMatchPyTorch() throws {
    let fixture = try load()
    XCTAssertGreaterThanOrEqual(fixture.cases.count, 26)
    for c in fixture.cases {
      let inputs = try c.inputs.map { v -> Tensor in
        let t = try v.tensor()
        t.requiresGrad = true
        return t
      }
      let outputs = try apply(c, inputs, try c.aux.map { try $0.tensor() })
      XCTAssertEqual(outputs.count, c.outputs.count, c.name)
      guard outputs.count == c.outputs.count else { continue }
      var loss = Tensor(scalar: 0)
      for (k, out) in outputs.enumerated() {
        XCTAssertEqual(out.shape, c.outputs[k].shape, "\(c.name) output \(k + 1)")
        assertClose(out.toArray(), c.outputs[k].values, "\(c.name) output \(k + 1)")
        loss = try loss.add(try out.mul(try c.gradOutputs[k].tensor()).sum())
      }
      try loss.backward()
      for (k, (x, want)) in zip(inputs, c.grads).enumerated() {
        assertClose(
          (x.grad ?? Tensor(zeros: x.shape)).toArray(), want.values, rtol: 1e-5, atol: 1e-5,
          "\(c.name) grad of input \(k + 1)")
      }
    }
  }
}
