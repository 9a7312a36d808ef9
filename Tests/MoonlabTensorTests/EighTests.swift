import Foundation
import MoonlabTensor
import XCTest

/// `Tensor.eigh` (cyclic Jacobi) against torch.linalg.eigh in float64
/// (scripts/fixtures_speedrun.py → Fixtures/linalg_fixtures.json), and by its definition:
/// A = V diag(λ) Vᵀ with V orthonormal.
final class EighTests: XCTestCase {
  static let cases: [String: [String: Any]] = {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/linalg_fixtures.json")
    guard let data = try? Data(contentsOf: url),
      let json = try? JSONSerialization.jsonObject(with: data) as? [String: [String: Any]]
    else { return [:] }
    return json
  }()

  func tensor(_ any: Any?) throws -> Tensor {
    let d = try XCTUnwrap(any as? [String: Any])
    return try Tensor(
      shape: try XCTUnwrap(d["shape"] as? [Int]),
      values: try XCTUnwrap(d["data"] as? [Double]).map(Float.init))
  }

  func testMatchesPyTorchUpToEigenvectorSigns() throws {
    XCTAssertEqual(Self.cases.count, 3, "run scripts/fixtures_speedrun.py")
    for (name, c) in Self.cases {
      let a = try tensor(c["input"])
      let (values, vectors) = try a.eigh()
      let (want, wantVectors) = (try tensor(c["values"]), try tensor(c["vectors"]))
      let n = a.shape[0]
      let scale = want.toArray().map(abs).max() ?? 1
      for (g, w) in zip(values.toArray(), want.toArray()) {
        XCTAssertEqual(g, w, accuracy: 1e-5 * scale, name)
      }
      for j in 0..<n {
        // Same column up to its sign.
        let dot = (0..<n).reduce(Float(0)) {
          $0 + vectors.data[$1 * n + j] * wantVectors.data[$1 * n + j]
        }
        let sign: Float = dot < 0 ? -1 : 1
        for i in 0..<n {
          XCTAssertEqual(
            vectors.data[i * n + j] * sign, wantVectors.data[i * n + j], accuracy: 2e-4,
            "\(name) column \(j)")
        }
      }
      try checkDecomposition(a, values, vectors, name)
    }
  }

  func checkDecomposition(_ a: Tensor, _ values: Tensor, _ v: Tensor, _ name: String) throws {
    let n = a.shape[0]
    let scale = a.toArray().map(abs).max() ?? 1
    for i in 0..<n {
      for j in 0..<n {
        var vtv: Float = 0
        var rebuilt: Float = 0
        for k in 0..<n {
          vtv += v.data[k * n + i] * v.data[k * n + j]
          rebuilt += v.data[i * n + k] * values.data[k] * v.data[j * n + k]
        }
        XCTAssertEqual(vtv, i == j ? 1 : 0, accuracy: 1e-5, "\(name): VᵀV[\(i),\(j)]")
        XCTAssertEqual(rebuilt, a.data[i * n + j], accuracy: 1e-5 * scale, "\(name): A[\(i),\(j)]")
      }
    }
    let sorted = values.toArray()
    XCTAssertEqual(sorted, sorted.sorted(), "\(name): ascending")
  }

  func testHandCase2x2AndEmpty() throws {
    // [[2, 1], [1, 2]]: λ = 1, 3 with vectors (1, −1)/√2, (1, 1)/√2.
    let (values, vectors) = try Tensor(shape: [2, 2], values: [2, 1, 1, 2]).eigh()
    XCTAssertEqual(values.toArray()[0], 1, accuracy: 1e-6)
    XCTAssertEqual(values.toArray()[1], 3, accuracy: 1e-6)
    let r = Float(0.5).squareRoot()
    XCTAssertEqual(abs(vectors.data[0]), r, accuracy: 1e-6)
    XCTAssertEqual(vectors.data[0] * vectors.data[2], -0.5, accuracy: 1e-6)
    XCTAssertEqual(vectors.data[1] * vectors.data[3], 0.5, accuracy: 1e-6)
    let (e, ev) = try Tensor(zeros: [0, 0]).eigh()
    XCTAssertEqual(e.shape, [0])
    XCTAssertEqual(ev.shape, [0, 0])
  }

  func testErrors() throws {
    for (t, message) in [
      (Tensor(zeros: [2, 3]), "square matrix"), (Tensor(zeros: [4]), "square matrix"),
      (Tensor(zeros: [2, 2, 2]), "square matrix"),
      (try Tensor(shape: [2, 2], values: [1, 0, .nan, 1]), "must be finite"),
      (try Tensor(shape: [2, 2], values: [.infinity, 0, 0, 1]), "must be finite"),
      (Tensor(zeros: [1025, 1025]), "larger than the 1024x1024"),
    ] {
      XCTAssertThrowsError(try t.eigh()) {
        XCTAssertTrue("\($0)".contains(message), "\($0)")
      }
    }
  }
}
