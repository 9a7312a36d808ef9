import Foundation
import MoonlabTensor
import XCTest

/// Cases written by scripts/fixtures_nn.py (PyTorch), read from Fixtures/nn_fixtures.json
/// and Fixtures/conv_bn_fixtures.json.
struct FixtureCase {
  let raw: [String: Any]

  static let all: [String: FixtureCase] = {
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures")
    var cases: [String: FixtureCase] = [:]
    for file in ["nn_fixtures.json", "conv_bn_fixtures.json", "training_fixtures.json"] {
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
