import MoonlabTensor

/// Group normalisation (Wu & He 2018): the C channels of each sample [N, C, *] are split
/// into `groups` groups; each (sample, group) is normalised with its own mean and biased
/// variance (`NormalizeGroups`), then y = x̂·γ_c + β_c per channel, γ = 1, β = 0 at start
/// (`affine`). Same in train and eval mode.
public final class GroupNorm: Module {
  public let groups, channels: Int
  public let eps: Float
  public let weight, bias: Tensor?

  public init(_ groups: Int, _ channels: Int, eps: Float = 1e-5, affine: Bool = true) throws {
    guard groups > 0, channels > 0, channels % groups == 0 else {
      throw TensorError(
        "GroupNorm: channels (\(channels)) must be a positive multiple of groups (\(groups))")
    }
    self.groups = groups
    self.channels = channels
    self.eps = eps
    weight = affine ? Tensor(zeros: [channels]) : nil
    bias = affine ? Tensor(zeros: [channels]) : nil
    super.init()
    if let weight, let bias {
      Init.constant(weight, 1)
      param("weight", weight)
      param("bias", bias)
    }
  }

  public override var extraDescription: String {
    "\(groups) groups, \(channels) channels" + (weight == nil ? ", no affine" : "")
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    guard x.rank >= 2, x.shape[1] == channels else {
      throw TensorError(
        "GroupNorm: expected input [N,\(channels),*], got \(describeShape(x.shape))")
    }
    let spatial = x.shape.dropFirst(2).reduce(1, *)
    let (rowsPerGroup, count) = (x.shape[0] * groups, (channels / groups) * spatial)
    let y = Tensor(uninitialized: x.shape)
    let xhat = Tensor(uninitialized: x.shape)
    let invStd = Tensor(uninitialized: [rowsPerGroup])
    NormalizeGroups.forward(
      x.data, xhat: xhat.data, invStd: invStd.data, groups: rowsPerGroup, n: count, eps: eps)
    let planes = x.shape[0] * channels  // (sample, channel) planes of `spatial` values
    if let pw = weight?.data, let pb = bias?.data {
      for p in 0..<planes {
        let (c, out, norm) = (p % channels, y.data + p * spatial, xhat.data + p * spatial)
        for s in 0..<spatial { out[s] = norm[s] * pw[c] + pb[c] }
      }
    } else {
      y.data.update(from: xhat.data, count: x.count)
    }
    let inputs = [x] + (weight.map { [$0, bias!] } ?? [])
    return Autograd.record("GroupNorm", output: y, inputs: inputs) {
      [
        xhat, invStd, weight, channels,
        needAffine = (weight?.requiresGrad ?? false) || (bias?.requiresGrad ?? false)
      ] g in
      let gx = Tensor(uninitialized: xhat.shape)
      let (pg, ph, pgx) = (g.data, xhat.data, gx.data)
      if let pw = weight?.data {  // ĝ = g·γ_c
        for p in 0..<planes {
          for s in 0..<spatial { pgx[p * spatial + s] = pg[p * spatial + s] * pw[p % channels] }
        }
      } else {
        pgx.update(from: pg, count: g.count)
      }
      NormalizeGroups.backward(pgx, xhat: ph, invStd: invStd.data, groups: rowsPerGroup, n: count)
      guard weight != nil else { return [gx] }
      guard needAffine else { return [gx, nil, nil] }
      let gw = Tensor(zeros: [channels])
      let gb = Tensor(zeros: [channels])
      for p in 0..<planes {
        let (gr, hr) = (pg + p * spatial, ph + p * spatial)
        var (sw, sb): (Float, Float) = (0, 0)
        for s in 0..<spatial {
          sw += gr[s] * hr[s]
          sb += gr[s]
        }
        gw.data[p % channels] += sw
        gb.data[p % channels] += sb
      }
      return [gx, gw, gb]
    }
  }
}
