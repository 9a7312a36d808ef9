import MoonlabTensor

/// Channel dropout (Tompson et al. 2015): in train mode each channel of [N, C, H, W] (or
/// [N, C, L]) is zeroed as a whole with probability p, the rest scaled by 1/(1 − p); eval
/// is the identity. Masks come from the "dropout" stream, like Dropout's.
public final class Dropout2d: Dropout {
  public override func forward(_ x: Tensor) throws -> Tensor {
    guard x.rank >= 3 else {
      throw TensorError("Dropout2d: expected input [N,C,H,W], got \(describeShape(x.shape))")
    }
    guard training, p > 0 else { return x }
    return dropout("Dropout2d", x, p: p, plane: x.shape.dropFirst(2).reduce(1, *))
  }
}
