import Foundation
import MoonlabTensor
import XCTest

/// The vectorised exp/tanh/sigmoid behind Tensor.exp() etc. against libm in Double (the
/// naive oracle), over the whole float range including specials and subnormal results.
final class VectorMathTests: XCTestCase {
  var inputs: [Float] {
    var xs: [Float] = stride(from: -110, through: 95, by: 0.0173).map { Float($0) }
    xs += [0, -0.0, 1e-30, -1e-30, 1e-8, -1e-8, 0.6249, 0.625, 0.6251, 88.72, 88.73, -87.3, -103.9]
    xs += [.nan, .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude]
    return xs  // 11,900 values: not a multiple of 8, so the padded tail runs too
  }

  func check(
    _ name: String, _ op: (Tensor) -> Tensor, _ oracle: (Double) -> Double, line: UInt = #line
  ) throws {
    let xs = inputs
    let got = op(try Tensor(shape: [xs.count], values: xs)).toArray()
    var worst: Float = 0
    for (x, y) in zip(xs, got) {
      let want = Float(oracle(Double(x)))
      if want.isNaN {
        XCTAssertTrue(y.isNaN, "\(name)(\(x)) = \(y), want nan", line: line)
      } else if want.isInfinite || want == 0 {
        XCTAssertEqual(y, want, "\(name)(\(x))", line: line)
      } else {
        // relative error in units of the float spacing at the true value (subnormals:
        // absolute, in units of the smallest subnormal)
        let ulps = abs(y - want) / max(want.ulp, Float.leastNonzeroMagnitude)
        worst = max(worst, ulps)
        XCTAssertLessThanOrEqual(ulps, 3, "\(name)(\(x)) = \(y), want \(want)", line: line)
      }
    }
    XCTAssertLessThanOrEqual(worst, 3, name, line: line)
  }

  func testExp() throws { try check("exp", { $0.exp() }, Foundation.exp) }
  func testTanh() throws { try check("tanh", { $0.tanh() }, Foundation.tanh) }
  func testSigmoid() throws {
    try check("sigmoid", { $0.sigmoid() }, { 1 / (1 + Foundation.exp(-$0)) })
  }

  /// erf by Abramowitz & Stegun 7.1.26: absolute error ≤ 1.5·10⁻⁷ against Double erf
  /// (plus rounding of its float arithmetic), NaN through, ±1 at ±inf.
  func testErf() {
    var worst: Double = 0
    for x in stride(from: -8, through: 8, by: 0.000_37).map({ Float($0) }) + [0, -0.0, 1e-30] {
      worst = max(worst, abs(Double(VectorMath.erf(x)) - Foundation.erf(Double(x))))
    }
    XCTAssertLessThanOrEqual(worst, 5e-7)  // the formula's 1.5e-7 plus float rounding
    XCTAssertTrue(VectorMath.erf(.nan).isNaN)
    XCTAssertEqual(VectorMath.erf(.infinity), 1)
    XCTAssertEqual(VectorMath.erf(-.infinity), -1)
  }
}
