import Foundation
import MoonlabTensor

/// Fixtures written by scripts/fixtures_optim.py, found next to this file.
enum OptimFixtures {
  static func url(_ relative: String, file: String = #filePath) -> URL {
    URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(
      "Fixtures/" + relative)
  }

  static func json(_ relative: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(contentsOf: url(relative)))
  }
}

/// |a - b| ≤ tol · max(|a|, |b|, floor): relative, with an absolute floor near zero.
func relativeClose(_ a: Double, _ b: Double, tol: Double, floor: Double = 1e-6) -> Bool {
  abs(a - b) <= tol * max(abs(a), abs(b), floor)
}
