import MoonlabTensor

/// Inverted dropout (Srivastava et al. 2014): in train mode each element is zeroed with
/// probability p and the rest scaled by 1/(1 − p); eval mode is the identity. Masks come
/// from the "dropout" stream, so dropout never shifts initial weights or shuffling.
public final class Dropout: Module {
  public let p: Float

  public init(_ p: Float = 0.5) throws {
    guard p >= 0, p <= 1 else {
      throw TensorError("Dropout: probability must be in [0, 1], got \(p)")
    }
    self.p = p
  }

  public override var extraDescription: String { "p = \(p)" }

  public override func forward(_ x: Tensor) throws -> Tensor {
    guard training, p > 0 else { return x }
    let mask = Tensor(zeros: x.shape)
    let y = Tensor(zeros: x.shape)
    let keep = p < 1 ? 1 / (1 - p) : 0
    let gen = RunContext.current.stream("dropout")
    let (pm, px, py) = (mask.data, x.data, y.data)
    for i in 0..<x.count {
      pm[i] = gen.uniform() >= p ? keep : 0
      py[i] = px[i] * pm[i]
    }
    return Autograd.record("Dropout", output: y, inputs: [x]) { [mask] g in
      let gx = Tensor(zeros: g.shape)
      let (pg, pm, pgx) = (g.data, mask.data, gx.data)
      for i in 0..<g.count { pgx[i] = pg[i] * pm[i] }
      return [gx]
    }
  }
}
