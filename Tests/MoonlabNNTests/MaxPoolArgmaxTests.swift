import MoonlabNN
import MoonlabTensor
import TestSupport
import XCTest

/// MaxPool2d keeps each window's argmax from forward; its backward must route gradients
/// exactly as finding the maximum again in the input did (first element wins ties, the
/// first NaN wins over numbers), overlapping windows adding up.
final class MaxPoolArgmaxTests: XCTestCase {
  /// The recomputing reference: each output's gradient to its window's first maximum.
  func reference(_ x: Tensor, _ g: Tensor, kernel k: Int, stride s: Int) -> ([Float], [Float]) {
    let (n, h, w) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
    let (oh, ow) = ((h - k) / s + 1, (w - k) / s + 1)
    var y = [Float](repeating: 0, count: n * oh * ow)
    var gx = [Float](repeating: 0, count: x.count)
    for p in 0..<n {
      for oy in 0..<oh {
        for ox in 0..<ow {
          var best = p * h * w + oy * s * w + ox * s
          for ky in 0..<k {
            for kx in 0..<k {
              let i = p * h * w + (oy * s + ky) * w + ox * s + kx
              if x.data[best].isNaN { continue }
              if x.data[i].isNaN || x.data[i] > x.data[best] { best = i }
            }
          }
          let o = (p * oh + oy) * ow + ox
          y[o] = x.data[best]
          gx[best] += g.data[o]
        }
      }
    }
    return (y, gx)
  }

  func testArgmaxBackwardMatchesRecomputation() throws {
    // Small integers make many ties; a few NaNs, one window all NaN. Odd and even sides
    // (2×2 windows then do or don't cover the whole plane).
    for (shape, (k, s)) in [[2, 3, 7, 9], [2, 3, 8, 6]].flatMap({ shape in
      [(2, 2), (3, 2), (3, 1), (2, 1), (6, 6)].map { (shape, $0) }
    }) {
      let x = testTensor(shape)
      for i in 0..<x.count { x.data[i] = (x.data[i] * 2).rounded() }
      for i in [5, 17, 40, 41, 49, 50, 200, 281] { x.data[i] = .nan }
      let leaf = x.detach()
      leaf.requiresGrad = true
      let y = try MaxPool2d(k, stride: s)(leaf)
      let g = testTensor(y.shape, seed: 9)
      try y.backward(g)
      let (ry, rg) = reference(x, g, kernel: k, stride: s)
      XCTAssertEqual(y.count, ry.count)
      for (a, b) in zip(y.toArray(), ry) {
        XCTAssertTrue(a == b || (a.isNaN && b.isNaN), "k \(k) s \(s): \(a) vs \(b)")
      }
      assertClose(
        try XCTUnwrap(leaf.grad).toArray(), rg, rtol: 0, atol: 0, "\(shape) k \(k) s \(s)")
    }
  }
}
