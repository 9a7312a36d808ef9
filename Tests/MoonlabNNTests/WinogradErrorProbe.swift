import MoonlabTensor
import TestSupport
import XCTest

@testable import MoonlabNN

final class WinogradErrorProbe: XCTestCase {
  func testProbe() throws {
    for (cin, cout, h, w, batch) in [(16, 9, 33, 31, 3), (24, 16, 31, 31, 2), (64, 64, 15, 15, 8), (256, 32, 7, 7, 16), (8, 6, 15, 15, 3)] {
      let conv = try Conv2d(cin, cout, kernelSize: 3, stride: 1, padding: 1, bias: false)
      let x = testTensor([batch, cin, h, w], seed: 5)
      let g = testTensor([batch, cout, h, w], seed: 6)
      let (px, pw, pg) = (x.toArray().map(Double.init), conv.weight.toArray().map(Double.init), g.toArray().map(Double.init))
      var dwd = [Double](repeating: 0, count: cout * cin * 9)
      var yd = [Double](repeating: 0, count: batch * cout * h * w)
      var dxd = [Double](repeating: 0, count: batch * cin * h * w)
      for n in 0..<batch { for o in 0..<cout { for i in 0..<h { for j in 0..<w {
        let yi = ((n * cout + o) * h + i) * w + j
        for c in 0..<cin { for a in 0..<3 { for b in 0..<3 {
          let (r, q) = (i - 1 + a, j - 1 + b)
          guard r >= 0, r < h, q >= 0, q < w else { continue }
          let xi = ((n * cin + c) * h + r) * w + q
          let wi = ((o * cin + c) * 3 + a) * 3 + b
          yd[yi] += pw[wi] * px[xi]; dwd[wi] += pg[yi] * px[xi]; dxd[xi] += pg[yi] * pw[wi]
        }}}
      }}}}
      let naive = naiveConv(x, conv.weight, nil, g, stride: 1, padding: 1)
      func err(_ a: [Float], _ ref: [Double]) -> String {
        let m = zip(a, ref).map { abs(Double($0) - $1) }.max()!
        let scale = ref.map(abs).max()!
        return String(format: "max|err| %.2e of max|ref| %.2f (%.1e)", m, scale, m / scale)
      }
      var line = "\(cin)->\(cout) \(h)x\(w) b\(batch): naive y \(err(naive.y, yd)) dx \(err(naive.dx, dxd)) dw \(err(naive.dw, dwd))"
      for f4 in [false, true] {
        let plan = ConvPlan(ConvGeometry(channels: cin, height: h, width: w, kernel: 3, stride: 1, padding: 1), outChannels: cout, batch: batch, winograd4: f4)
        let (y, dx, dw) = (Tensor(zeros: g.shape), Tensor(zeros: x.shape), Tensor(zeros: conv.weight.shape))
        let s = Workspace()
        try plan.forward(input: x.data, weight: conv.weight.data, bias: nil, output: y.data, scratch: s)
        try plan.backward(gradOutput: g.data, input: x.data, weight: conv.weight.data, gradInput: dx.data, gradWeight: dw, gradBias: nil, scratch: s)
        line += "\n   \(f4 ? "F4" : "F2"): y \(err(y.toArray(), yd)) dx \(err(dx.toArray(), dxd)) dw \(err(dw.toArray(), dwd))"
      }
      print(line)
    }
  }
}
