import MoonlabNN
import MoonlabTensor
import TestSupport
import XCTest

/// Conv2d's row-padded lowering (stride 1, no padding, images not much wider than the
/// output, as in LeNet) against a naive direct convolution and its gradients.
final class ConvLoweringTests: XCTestCase {
  /// y[n,o,i,j] = b[o] + Σ w[o,c,ki,kj]·x[n,c,i+ki,j+kj]; returns y, dx, dw, db for grad g.
  func naive(_ x: Tensor, _ w: Tensor, _ b: Tensor, _ g: Tensor) -> (
    [Float], [Float], [Float], [Float]
  ) {
    let (n, cin, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (cout, k) = (w.shape[0], w.shape[2])
    let (oh, ow) = (h - k + 1, wd - k + 1)
    var y = [Float](repeating: 0, count: n * cout * oh * ow)
    var dx = [Float](repeating: 0, count: x.count)
    var dw = [Float](repeating: 0, count: w.count)
    var db = [Float](repeating: 0, count: cout)
    let (px, pw, pg) = (x.toArray(), w.toArray(), g.toArray())
    for s in 0..<n {
      for o in 0..<cout {
        for i in 0..<oh {
          for j in 0..<ow {
            let yi = ((s * cout + o) * oh + i) * ow + j
            var acc = b.data[o]
            db[o] += pg[yi]
            for c in 0..<cin {
              for ki in 0..<k {
                for kj in 0..<k {
                  let xi = ((s * cin + c) * h + i + ki) * wd + j + kj
                  let wi = ((o * cin + c) * k + ki) * k + kj
                  acc += pw[wi] * px[xi]
                  dx[xi] += pw[wi] * pg[yi]
                  dw[wi] += px[xi] * pg[yi]
                }
              }
            }
            y[yi] = acc
          }
        }
      }
    }
    return (y, dx, dw, db)
  }

  func testRowPaddedLoweringMatchesNaiveConvolution() throws {
    for threads in [1, 2] {
      let saved = Parallel.threads
      defer { Parallel.setThreads(saved) }
      Parallel.setThreads(threads)
      let conv = try Conv2d(2, 3, kernelSize: 3)
      let x = testTensor([3, 2, 12, 12], seed: 5)
      XCTAssertTrue(
        ConvLowering(
          ConvGeometry(channels: 2, height: 12, width: 12, kernel: 3, stride: 1, padding: 0)
        ).rowPadded)
      x.requiresGrad = true
      let y = try conv(x)
      let g = testTensor(y.shape, seed: 6)
      try y.backward(g)
      let (ny, ndx, ndw, ndb) = naive(x, conv.weight, try XCTUnwrap(conv.bias), g)
      assertClose(y.toArray(), ny, rtol: 1e-4, atol: 1e-5, "output")
      assertClose(try XCTUnwrap(x.grad).toArray(), ndx, rtol: 1e-4, atol: 1e-5, "dx")
      assertClose(try XCTUnwrap(conv.weight.grad).toArray(), ndw, rtol: 1e-4, atol: 1e-4, "dw")
      assertClose(try XCTUnwrap(conv.bias?.grad).toArray(), ndb, rtol: 1e-4, atol: 1e-4, "db")
    }
  }
}
