import MoonlabTensor
import TestSupport
import XCTest

/// The math ops of issue 14 against central finite differences, with GradcheckTests'
/// helpers.
extension GradcheckTests {
  /// Values whose fractional parts are 0.3, 0.45 or 0.6: floor, ceil and round are flat
  /// within eps of every one of them.
  func offIntegers(_ count: Int) throws -> Tensor {
    try Tensor(
      shape: [count], values: (0..<count).map { Float($0 - 7) + 0.3 + Float($0 % 3) * 0.15 })
  }

  func testRoundingClampAndLog1p() throws {
    let steps = try offIntegers(15)
    try assertGradcheck("floor", [steps]) { $0[0].floor() }
    try assertGradcheck("ceil", [steps]) { $0[0].ceil() }
    try assertGradcheck("round", [steps]) { $0[0].round() }
    try assertGradcheck("sign", [steps]) { $0[0].sign() }
    let x = try Tensor(shape: [8], values: [-2.3, -1.1, -0.4, 0.35, 0.8, 1.7, 2.6, -0.05])
    try assertGradcheck("clamp", [x]) { $0[0].clamp(min: -1, max: 1) }
    try assertGradcheck("clamp min", [x]) { $0[0].clamp(min: -0.5) }
    try assertGradcheck("clamp max", [x]) { $0[0].clamp(max: 0.5) }
    try assertGradcheck("log1p", [try positive([3, 5], seed: 21)]) { $0[0].log1p() }
    try assertGradcheck("pow tensor", [try positive([2, 3], seed: 27), testTensor([3], seed: 28)]) {
      try $0[0].pow($0[1])
    }
    // Negative bases with integer exponents: the exponent is a constant here (aᵇ has no
    // real derivative in b for a < 0).
    let exponents = try Tensor(shape: [3], values: [2, 3, 1])
    try assertGradcheck("pow broadcast base", [testTensor([2, 1], seed: 29)]) {
      try $0[0].pow(exponents)
    }
  }

  func testStatisticsAndProducts() throws {
    let x = testTensor([2, 3, 4], seed: 22)
    let nz = awayFromZero([2, 3, 4], seed: 23)
    try assertGradcheck("min", [x]) { try $0[0].minimum() }
    try assertGradcheck("prod", [try positive([2, 3], seed: 24)]) { $0[0].prod() }
    try assertGradcheck("var", [x]) { $0[0].variance() }
    try assertGradcheck("std biased", [x]) { $0[0].std(correction: 0) }
    for p: Float in [1, 2, 3, .infinity] {
      try assertGradcheck("norm \(p)", [nz]) { try $0[0].norm(p: p) }
    }
    for d in [0, 1, 2, -1] {
      for keep in [false, true] {
        try assertGradcheck("min dim \(d)", [x]) {
          try $0[0].minWithIndices(dim: d, keepDim: keep).values
        }
        try assertGradcheck("prod dim \(d)", [x]) { try $0[0].prod(dim: d, keepDim: keep) }
        try assertGradcheck("var dim \(d)", [x]) { try $0[0].variance(dim: d, keepDim: keep) }
        try assertGradcheck("std dim \(d)", [x]) {
          try $0[0].std(dim: d, keepDim: keep, correction: 0)
        }
        try assertGradcheck("norm 2 dim \(d)", [nz]) { try $0[0].norm(p: 2, dim: d, keepDim: keep) }
        try assertGradcheck("norm 1 dim \(d)", [nz]) { try $0[0].norm(p: 1, dim: d, keepDim: keep) }
      }
    }
  }

  func testCumsumSortAndTopk() throws {
    // Sorting is smooth only away from ties: seed 25 puts two entries of a row 2e-4
    // apart, closer than eps; seed 26 keeps them further.
    let x = testTensor([2, 3, 4], seed: 26)
    for d in [0, 1, 2] {
      try assertGradcheck("cumsum \(d)", [x]) { try $0[0].cumsum(dim: d) }
      try assertGradcheck("sort \(d)", [x]) { try $0[0].sort(dim: d).values }
      try assertGradcheck("sort descending \(d)", [x]) {
        try $0[0].sort(dim: d, descending: true).values
      }
      try assertGradcheck("topk \(d)", [x]) { try $0[0].topk(2, dim: d).values }
      try assertGradcheck("topk smallest \(d)", [x]) {
        try $0[0].topk(1, dim: d, largest: false).values
      }
    }
  }
}
