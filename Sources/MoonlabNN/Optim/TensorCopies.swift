import MoonlabTensor

/// The copies and the lerp that weight averaging (EMA) and Lookahead share: snapshots of
/// a list of tensors, writing values back into the model's own tensors, and PyTorch's
/// `lerp_` toward them.
enum TensorCopies {
  /// Fresh tensors holding the current values of `tensors`.
  static func snapshot(_ tensors: [Tensor]) -> [Tensor] {
    tensors.map { t in
      let copy = Tensor(zeros: t.shape)
      copy.data.update(from: t.data, count: t.count)
      return copy
    }
  }

  /// Writes `values` into `targets`' storage (same tensors, so optimizers and modules
  /// keep pointing at them; a strided view writes through, docs/tensor.md).
  static func overwrite(_ targets: [Tensor], with values: [Tensor]) {
    for (t, v) in zip(targets, values) {
      t.data.update(from: v.data, count: t.count)
      t.markWritten()
    }
  }

  /// a ← lerp(a, b, w) = a + w (b − a) elementwise, as PyTorch's CPU `lerp_`: for
  /// w < 0.5 a + w (b − a), else b − (1 − w)(b − a), each with one rounding (fused), so
  /// the result is exact at w = 0 and w = 1.
  static func lerp(_ a: [Tensor], toward b: [Tensor], weight: Double) {
    let w = Float(weight)
    for (x, y) in zip(a, b) {
      let (p, q) = (x.data, y.data)
      if w < 0.5 {
        for i in 0..<x.count { p[i] = fusedMultiplyAdd(w, q[i] - p[i], p[i]) }
      } else {
        for i in 0..<x.count { p[i] = fusedMultiplyAdd(w - 1, q[i] - p[i], q[i]) }
      }
    }
  }
}
