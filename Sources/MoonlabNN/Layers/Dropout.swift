import MoonlabTensor

/// Inverted dropout (Srivastava et al. 2014): in train mode each element is zeroed with
/// probability p and the rest scaled by 1/(1 − p); eval mode is the identity. Masks come
/// from the "dropout" stream, so dropout never shifts initial weights or shuffling.
public class Dropout: Module {
  public let p: Float

  public init(_ p: Float = 0.5) throws {
    guard p >= 0, p <= 1 else {
      throw TensorError("\(Self.self): probability must be in [0, 1], got \(p)")
    }
    self.p = p
  }

  public override var extraDescription: String { "p = \(p)" }

  public override func forward(_ x: Tensor) throws -> Tensor {
    guard training, p > 0 else { return x }
    return dropout("Dropout", x, p: p, plane: 1)
  }
}

/// Keeps or zeroes each run of `plane` consecutive values together (one value for Dropout,
/// one channel's H·W plane for Dropout2d), one draw from the "dropout" stream per run;
/// kept runs are scaled by 1/(1 − p).
func dropout(_ name: String, _ x: Tensor, p: Float, plane: Int) -> Tensor {
  let runs = plane > 0 ? x.count / plane : 0
  let mask = Tensor(uninitialized: [runs])
  let y = Tensor(uninitialized: x.shape)
  let keep = p < 1 ? 1 / (1 - p) : 0
  let gen = RunContext.current.stream("dropout")
  let (pm, px, py) = (mask.data, x.data, y.data)
  for i in 0..<runs {
    pm[i] = gen.uniform() >= p ? keep : 0
    for j in i * plane..<(i + 1) * plane { py[j] = px[j] * pm[i] }
  }
  return Autograd.record(name, output: y, inputs: [x]) { [mask] g in
    let gx = Tensor(uninitialized: g.shape)
    let (pg, pm, pgx) = (g.data, mask.data, gx.data)
    for i in 0..<runs {
      for j in i * plane..<(i + 1) * plane { pgx[j] = pg[j] * pm[i] }
    }
    return [gx]
  }
}
