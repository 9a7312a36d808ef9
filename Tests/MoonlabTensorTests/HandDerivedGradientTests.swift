import Foundation
import MoonlabTensor
import TestSupport
import XCTest

/// The tape's gradients against formulas derived by hand (issue 3, item 1), each formula
/// evaluated with naive loops in Double. L = Σ Y ⊙ G for a fixed G makes dL/dY = G.
final class HandDerivedGradientTests: XCTestCase {
  /// Naive row-major (m × k)·(k × n), each operand optionally transposed.
  func naiveMatmul(
    _ a: [Float], _ b: [Float], m: Int, k: Int, n: Int, transA: Bool = false, transB: Bool = false
  ) -> [Float] {
    var c = [Float](repeating: 0, count: m * n)
    for i in 0..<m {
      for j in 0..<n {
        var s: Double = 0
        for p in 0..<k {
          let av = transA ? a[p * m + i] : a[i * k + p]
          let bv = transB ? b[j * k + p] : b[p * n + j]
          s += Double(av) * Double(bv)
        }
        c[i * n + j] = Float(s)
      }
    }
    return c
  }

  func leaf(_ shape: [Int], seed: UInt64) -> Tensor {
    let t = testTensor(shape, seed: seed)
    t.requiresGrad = true
    return t
  }

  /// Y = X·Wᵀ + b: dW = dYᵀ·X, db = column sums of dY, dX = dY·W.
  func testLinear() throws {
    let (n, fin, fout) = (4, 3, 5)
    let x = leaf([n, fin], seed: 1)
    let w = leaf([fout, fin], seed: 2)
    let b = leaf([fout], seed: 3)
    let g = testTensor([n, fout], seed: 4)
    let y = try x.matmul(w.transposed()).add(b)
    try y.mul(g).sum().backward()
    let dy = g.toArray()
    assertClose(
      w.grad?.toArray() ?? [], naiveMatmul(dy, x.toArray(), m: fout, k: n, n: fin, transA: true),
      "dW")
    assertClose(x.grad?.toArray() ?? [], naiveMatmul(dy, w.toArray(), m: n, k: fout, n: fin), "dX")
    let db = (0..<fout).map { j in (0..<n).reduce(Float(0)) { $0 + dy[$1 * fout + j] } }
    assertClose(b.grad?.toArray() ?? [], db, "db")
  }

  /// L = −Σᵢ log softmax(hᵢ)[yᵢ]: dL/dh = P − onehot(y).
  func testSoftmaxCrossEntropy() throws {
    let (n, c) = (3, 4)
    let h = leaf([n, c], seed: 5)
    let labels = [2, 0, 3]
    var onehot = [Float](repeating: 0, count: n * c)
    for (i, y) in labels.enumerated() { onehot[i * c + y] = 1 }
    let target = try Tensor(shape: [n, c], values: onehot)
    try h.logSoftmax(dim: 1).mul(target).sum().neg().backward()
    var expected = [Float](repeating: 0, count: n * c)
    let hv = h.toArray()
    for i in 0..<n {
      let row = hv[(i * c)..<(i * c + c)].map(Double.init)
      let m = row.max() ?? 0
      let z = row.reduce(0) { $0 + Foundation.exp($1 - m) }
      for j in 0..<c {
        expected[i * c + j] = Float(Foundation.exp(row[j] - m) / z) - onehot[i * c + j]
      }
    }
    assertClose(h.grad?.toArray() ?? [], expected, rtol: 1e-5, atol: 1e-6, "dL/dh")
  }

  /// o = σ(z), L = −Σ t log o + (1 − t) log(1 − o): dL/dz = o − t.
  func testSigmoidBinaryCrossEntropy() throws {
    let z = leaf([6], seed: 6)
    let t = try Tensor(shape: [6], values: [1, 0, 1, 1, 0, 0])
    let o = z.sigmoid()
    let notO = o.neg().add(1)
    let notT = t.neg().add(1)
    try o.log().mul(t).add(notO.log().mul(notT)).sum().neg().backward()
    let expected = zip(z.toArray(), t.toArray()).map { z, t in
      Float(1 / (1 + Foundation.exp(-Double(z)))) - t
    }
    assertClose(z.grad?.toArray() ?? [], expected, rtol: 1e-5, atol: 1e-6, "dL/dz")
  }

  /// g = tanh(x): dx = dg · (1 − g²).
  func testTanh() throws {
    let x = leaf([2, 5], seed: 7)
    let dg = testTensor([2, 5], seed: 8)
    try x.tanh().mul(dg).sum().backward()
    let expected = zip(x.toArray(), dg.toArray()).map { x, d in
      let g = Foundation.tanh(Double(x))
      return Float(Double(d) * (1 - g * g))
    }
    assertClose(x.grad?.toArray() ?? [], expected, "dx")
  }

  /// a [2,3,4] + b [3,1]: db[j] = Σ over the broadcast dimensions (i, k) of dY[i, j, k].
  func testBroadcastGradientIsSummedOverExpandedDimensions() throws {
    let a = leaf([2, 3, 4], seed: 9)
    let b = leaf([3, 1], seed: 10)
    let g = testTensor([2, 3, 4], seed: 11)
    try a.add(b).mul(g).sum().backward()
    let gv = g.toArray()
    let expected = (0..<3).map { j in
      var s: Float = 0
      for i in 0..<2 { for k in 0..<4 { s += gv[(i * 3 + j) * 4 + k] } }
      return s
    }
    assertClose(b.grad?.toArray() ?? [], expected, "db")
    XCTAssertEqual(b.grad?.shape, [3, 1])
    assertClose(a.grad?.toArray() ?? [], gv, rtol: 0, atol: 0, "da")
  }

  /// C = A·B: dA = dC·Bᵀ, dB = Aᵀ·dC.
  func testMatmul() throws {
    let (m, k, n) = (3, 4, 2)
    let a = leaf([m, k], seed: 12)
    let b = leaf([k, n], seed: 13)
    let g = testTensor([m, n], seed: 14)
    try a.matmul(b).mul(g).sum().backward()
    assertClose(
      a.grad?.toArray() ?? [],
      naiveMatmul(g.toArray(), b.toArray(), m: m, k: n, n: k, transB: true), "dA")
    assertClose(
      b.grad?.toArray() ?? [],
      naiveMatmul(a.toArray(), g.toArray(), m: k, k: m, n: n, transA: true), "dB")
  }

  /// Gradients accumulate across backward calls until zeroGrad.
  func testGradientsAccumulateAndReset() throws {
    let x = leaf([3], seed: 15)
    try x.mul(2).sum().backward()
    try x.mul(3).sum().backward()
    XCTAssertEqual(x.grad?.toArray(), [5, 5, 5])
    x.zeroGrad()
    XCTAssertNil(x.grad)
  }
}

/// A node whose backward returns a gradient of the wrong shape is reported, not summed.
final class BackwardShapeCheckTests: XCTestCase {
  func testWrongGradientShapeFromACustomNodeIsAnError() throws {
    let x = try Tensor.ones([3])
    x.requiresGrad = true
    let y = Autograd.record("custom", output: Tensor(zeros: [3]), inputs: [x]) { _ in
      [Tensor(zeros: [1])]
    }
    XCTAssertThrowsError(try y.sum().backward()) { error in
      XCTAssertEqual(
        (error as? TensorError)?.message,
        "backward: custom returned a gradient of shape [1] for an input of shape [3]")
    }
  }

  func testStoredGradOfTheWrongShapeIsAnError() throws {
    let x = try Tensor.ones([3])
    x.requiresGrad = true
    x.grad = Tensor(zeros: [2])
    XCTAssertThrowsError(try x.mul(2).sum().backward())
  }
}
