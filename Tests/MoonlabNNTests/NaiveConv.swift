import MoonlabTensor

/// The plain reference for Conv2d's kernels: y[n,o,i,j] = b[o] + Σ w[o,c,ki,kj]·
/// x[n,c,i·s−p+ki,j·s−p+kj] (zero outside the image), with dx, dw, db for output grad g.
func naiveConv(
  _ x: Tensor, _ w: Tensor, _ b: Tensor?, _ g: Tensor, stride s: Int = 1, padding p: Int = 0
) -> (y: [Float], dx: [Float], dw: [Float], db: [Float]) {
  let (n, cin, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
  let (cout, k) = (w.shape[0], w.shape[2])
  let (oh, ow) = ((h + 2 * p - k) / s + 1, (wd + 2 * p - k) / s + 1)
  var y = [Float](repeating: 0, count: n * cout * oh * ow)
  var dx = [Float](repeating: 0, count: x.count)
  var dw = [Float](repeating: 0, count: w.count)
  var db = [Float](repeating: 0, count: cout)
  let (px, pw, pg) = (x.toArray(), w.toArray(), g.toArray())
  for m in 0..<n {
    for o in 0..<cout {
      for i in 0..<oh {
        for j in 0..<ow {
          let yi = ((m * cout + o) * oh + i) * ow + j
          var acc = b?.data[o] ?? 0
          db[o] += pg[yi]
          for c in 0..<cin {
            for ki in 0..<k {
              for kj in 0..<k {
                let (r, q) = (i * s - p + ki, j * s - p + kj)
                guard r >= 0, r < h, q >= 0, q < wd else { continue }
                let xi = ((m * cin + c) * h + r) * wd + q
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
