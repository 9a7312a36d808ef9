import MoonlabTensor

/// Group normalisation (Wu & He 2018): the C channels of each sample [N, C, *] are split
/// into `groups` groups; each (sample, group) is normalised with its own mean and biased
/// variance, then y = x̂·γ_c + β_c per channel (`affine`). Same in train and eval mode.
public final class GroupNorm: GroupNormalization {
  public let groups, channels: Int

  public init(_ groups: Int, _ channels: Int, eps: Float = 1e-5, affine: Bool = true) throws {
    guard groups > 0, channels > 0, channels % groups == 0 else {
      throw TensorError(
        "GroupNorm: channels (\(channels)) must be a positive multiple of groups (\(groups))")
    }
    self.groups = groups
    self.channels = channels
    try super.init(eps: eps, affine: affine, parameterShape: [channels], op: "GroupNorm")
  }

  public override var extraDescription: String {
    "\(groups) groups, \(channels) channels" + affineDescription
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    guard x.rank >= 2, x.shape[1] == channels else {
      throw TensorError(
        "GroupNorm: expected input [N,\(channels),*], got \(describeShape(x.shape))")
    }
    let spatial = x.shape.dropFirst(2).reduce(1, *)
    return normalize(
      x, groups: x.shape[0] * groups, n: (channels / groups) * spatial, stride: spatial)
  }
}
