import Foundation
import MoonlabTensor

/// Long short-term memory (Hochreiter & Schmidhuber 1997), PyTorch's formulation and gate
/// order i, f, g, o:  i = σ(zᵢ), f = σ(z_f), g = tanh(z_g), o = σ(zₒ) with
/// z = x·W_ihᵀ + b_ih + hₜ₋₁·W_hhᵀ + b_hh;  cₜ = f·cₜ₋₁ + i·g,  hₜ = o·tanh(cₜ).
/// Layers, layout, parameters and states: `RecurrentStack` (docs/nn.md, "LSTM and GRU").
public final class LSTM: RecurrentStack {
  public init(
    _ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, batchFirst: Bool = false
  ) throws {
    try super.init(
      LSTMCell.self, inputSize, hiddenSize, numLayers: numLayers, batchFirst: batchFirst,
      op: "LSTM")
  }
}

enum LSTMCell: RecurrentCell {
  static let gates = 4
  static let saved = 4  // i, f, g, o after their activations
  static let hasCellState = true

  static func forward(
    xz: UnsafePointer<Float>, hz: UnsafePointer<Float>, hPrev: UnsafePointer<Float>,
    cPrev: UnsafePointer<Float>?, h: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>?,
    saved: UnsafeMutablePointer<Float>, rows: Int, hidden n: Int
  ) {
    guard let cPrev, let c else { return }
    for b in 0..<rows {
      let (x, z, s) = (xz + b * 4 * n, hz + b * 4 * n, saved + b * 4 * n)
      for j in 0..<n {
        let i = sigmoid(x[j] + z[j])
        let f = sigmoid(x[n + j] + z[n + j])
        let g = Foundation.tanh(x[2 * n + j] + z[2 * n + j])
        let o = sigmoid(x[3 * n + j] + z[3 * n + j])
        (s[j], s[n + j], s[2 * n + j], s[3 * n + j]) = (i, f, g, o)
        let cell = f * cPrev[b * n + j] + i * g
        c[b * n + j] = cell
        h[b * n + j] = o * Foundation.tanh(cell)
      }
    }
  }

  static func backward(
    dh: UnsafePointer<Float>, dc: UnsafeMutablePointer<Float>?, saved: UnsafePointer<Float>,
    hPrev: UnsafePointer<Float>, cPrev: UnsafePointer<Float>?, c: UnsafePointer<Float>?,
    dxz: UnsafeMutablePointer<Float>, dhz: UnsafeMutablePointer<Float>,
    dhPrev: UnsafeMutablePointer<Float>, rows: Int, hidden n: Int
  ) {
    guard let dc, let cPrev, let c else { return }
    for b in 0..<rows {
      let (s, d) = (saved + b * 4 * n, dxz + b * 4 * n)
      for j in 0..<n {
        let k = b * n + j
        let (i, f, g, o) = (s[j], s[n + j], s[2 * n + j], s[3 * n + j])
        let tc = Foundation.tanh(c[k])
        // ∂L/∂cₜ: carried from cₜ₊₁ plus through hₜ = o·tanh(cₜ)
        let dcell = dc[k] + dh[k] * o * (1 - tc * tc)
        d[j] = dcell * g * i * (1 - i)
        d[n + j] = dcell * cPrev[k] * f * (1 - f)
        d[2 * n + j] = dcell * i * (1 - g * g)
        d[3 * n + j] = dh[k] * tc * o * (1 - o)
        dc[k] = dcell * f
        dhPrev[k] = 0  // hₜ₋₁ reaches the loss only through W_hh
      }
      (dhz + b * 4 * n).update(from: d, count: 4 * n)
    }
  }
}

@inline(__always) func sigmoid(_ x: Float) -> Float { 1 / (1 + Foundation.exp(-x)) }
