import Foundation
import MoonlabTensor

/// Gated recurrent unit (Cho et al. 2014), PyTorch's formulation and gate order r, z, n:
/// r = σ(xᵣ + hᵣ), z = σ(x_z + h_z), n = tanh(xₙ + r·hₙ), hₜ = (1 − z)·n + z·hₜ₋₁, where
/// x = x·W_ihᵀ + b_ih and h = hₜ₋₁·W_hhᵀ + b_hh (r scales hₙ including its bias).
/// Layers, layout, parameters and states: `RecurrentStack` (docs/nn.md, "LSTM and GRU").
public final class GRU: RecurrentStack {
  public init(
    _ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, batchFirst: Bool = false
  ) throws {
    try super.init(
      GRUCell.self, inputSize, hiddenSize, numLayers: numLayers, batchFirst: batchFirst,
      op: "GRU")
  }
}

enum GRUCell: RecurrentCell {
  static let gates = 3
  static let saved = 4  // r, z, n and hₙ (r's gradient needs it)
  static let hasCellState = false

  static func forward(
    xz: UnsafePointer<Float>, hz: UnsafePointer<Float>, hPrev: UnsafePointer<Float>,
    cPrev: UnsafePointer<Float>?, h: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>?,
    saved: UnsafeMutablePointer<Float>, rows: Int, hidden n: Int
  ) {
    for b in 0..<rows {
      let (x, y, s) = (xz + b * 3 * n, hz + b * 3 * n, saved + b * 4 * n)
      for j in 0..<n {
        let r = sigmoid(x[j] + y[j])
        let z = sigmoid(x[n + j] + y[n + j])
        let hn = y[2 * n + j]
        let cand = Foundation.tanh(x[2 * n + j] + r * hn)
        (s[j], s[n + j], s[2 * n + j], s[3 * n + j]) = (r, z, cand, hn)
        h[b * n + j] = (1 - z) * cand + z * hPrev[b * n + j]
      }
    }
  }

  static func backward(
    dh: UnsafePointer<Float>, dc: UnsafeMutablePointer<Float>?, saved: UnsafePointer<Float>,
    hPrev: UnsafePointer<Float>, cPrev: UnsafePointer<Float>?, c: UnsafePointer<Float>?,
    dxz: UnsafeMutablePointer<Float>, dhz: UnsafeMutablePointer<Float>,
    dhPrev: UnsafeMutablePointer<Float>, rows: Int, hidden n: Int
  ) {
    for b in 0..<rows {
      let (s, dx, dy) = (saved + b * 4 * n, dxz + b * 3 * n, dhz + b * 3 * n)
      for j in 0..<n {
        let k = b * n + j
        let (r, z, cand, hn) = (s[j], s[n + j], s[2 * n + j], s[3 * n + j])
        let dn = dh[k] * (1 - z) * (1 - cand * cand)  // through tanh
        let dr = dn * hn * r * (1 - r)
        let dz = dh[k] * (hPrev[k] - cand) * z * (1 - z)
        (dx[j], dx[n + j], dx[2 * n + j]) = (dr, dz, dn)
        (dy[j], dy[n + j], dy[2 * n + j]) = (dr, dz, dn * r)
        dhPrev[k] = dh[k] * z
      }
    }
  }
}
