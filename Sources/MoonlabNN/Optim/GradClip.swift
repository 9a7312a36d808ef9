import Foundation
import MoonlabTensor

/// Gradient clipping, PyTorch's `torch.nn.utils.clip_grad_norm_` / `clip_grad_value_`
/// (in Lua `optim.clip_grad_norm` / `optim.clip_grad_value`, docs/optim.md). Both act in
/// place on the gradients of the parameters that have one, between `backward()` and
/// `step()`.
public enum GradClip {
  /// Scales every gradient by min(1, max_norm / (total + 1e-6)), where total is the
  /// `normType`-norm of all gradients taken together (∞ = largest magnitude); returns
  /// total, the norm before clipping. The 1e-6 is PyTorch's, so a zero gradient stays zero.
  @discardableResult
  public static func byNorm(_ parameters: [Tensor], maxNorm: Double, normType: Double = 2) throws
    -> Double
  {
    guard maxNorm >= 0, maxNorm.isFinite else {
      throw TensorError("clip_grad_norm: max_norm \(maxNorm) must be a finite number ≥ 0")
    }
    guard normType > 0 else {
      throw TensorError("clip_grad_norm: norm_type \(normType) must be > 0 (or math.huge)")
    }
    let grads = parameters.compactMap(\.grad)
    var total = 0.0
    for g in grads {
      let p = g.data
      if normType.isInfinite {
        for i in 0..<g.count { total = max(total, Double(abs(p[i]))) }
      } else {
        for i in 0..<g.count { total += pow(Double(abs(p[i])), normType) }
      }
    }
    if !normType.isInfinite { total = pow(total, 1 / normType) }
    let scale = Float(min(1, maxNorm / (total + 1e-6)))
    for g in grads {
      let p = g.data
      for i in 0..<g.count { p[i] *= scale }
      g.markWritten()
    }
    return total
  }

  /// Clamps every gradient element into [−value, value].
  public static func byValue(_ parameters: [Tensor], value: Double) throws {
    guard value >= 0, value.isFinite else {
      throw TensorError("clip_grad_value: clip_value \(value) must be a finite number ≥ 0")
    }
    let v = Float(value)
    for g in parameters.compactMap(\.grad) {
      let p = g.data
      for i in 0..<g.count { p[i] = min(max(p[i], -v), v) }
      g.markWritten()
    }
  }
}
