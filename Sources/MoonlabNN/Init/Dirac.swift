import MoonlabTensor

extension Init {
  /// PyTorch's `nn.init.dirac_` (groups = 1): zeros, then w[i, i, centre] = 1 for
  /// i < min(out, in), so a convolution with this weight passes its first channels
  /// through unchanged. `t` is [out, in, k] (Conv1d), [out, in, kh, kw] or
  /// [out, in, kd, kh, kw]; the centre is ⌊size/2⌋ in each kernel dimension. Works on a
  /// view (`weight:narrow(1, 1, cin)`): the values go into the storage it shares.
  public static func dirac(_ t: Tensor) throws {
    guard (3...5).contains(t.rank) else {
      throw TensorError(
        "dirac: expected a weight with 3, 4 or 5 dimensions [out, in, k…], got \(describeShape(t.shape))"
      )
    }
    try t.checkWritable(op: "dirac")
    let p = t.data
    p.update(repeating: 0, count: t.count)
    let kernel = Array(t.shape.dropFirst(2))
    let kernelCount = kernel.reduce(1, *)
    // Row-major offset of the centre inside one [k…] kernel.
    var centre = 0
    for size in kernel { centre = centre * size + size / 2 }
    if kernelCount > 0 {
      for i in 0..<min(t.shape[0], t.shape[1]) {
        p[(i * t.shape[1] + i) * kernelCount + centre] = 1
      }
    }
    t.markWritten()
  }
}
