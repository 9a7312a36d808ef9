import Foundation
import MoonlabTensor

/// Elman RNN: hₜ = act(xₜ·W_ihᵀ + b_ih + hₜ₋₁·W_hhᵀ + b_hh), act = tanh or relu. Layers,
/// layout ([T, N, in] time first by default), parameters (`weight_ih_l0`, …, U(±1/√hidden))
/// and states: `RecurrentStack` (docs/nn.md, "LSTM and GRU").
public final class RNN: RecurrentStack {
  public enum Nonlinearity: String { case tanh, relu }

  public let nonlinearity: Nonlinearity

  public init(
    _ inputSize: Int, _ hiddenSize: Int, nonlinearity: Nonlinearity = .tanh, numLayers: Int = 1,
    batchFirst: Bool = false
  ) throws {
    self.nonlinearity = nonlinearity
    try super.init(
      nonlinearity == .tanh ? ElmanCell<TanhActivation>.self : ElmanCell<ReLUActivation>.self,
      inputSize, hiddenSize, numLayers: numLayers, batchFirst: batchFirst, op: "RNN")
  }

  public override var extraDescription: String {
    super.extraDescription + ", \(nonlinearity.rawValue)"
  }
}

/// The activation of an Elman cell and its derivative as a function of its output.
protocol ElmanActivation {
  static func value(_ z: Float) -> Float
  static func derivative(output y: Float) -> Float
}

enum TanhActivation: ElmanActivation {
  static func value(_ z: Float) -> Float { Foundation.tanh(z) }
  static func derivative(output y: Float) -> Float { 1 - y * y }
}

enum ReLUActivation: ElmanActivation {
  static func value(_ z: Float) -> Float { max(z, 0) }
  static func derivative(output y: Float) -> Float { y > 0 ? 1 : 0 }
}

enum ElmanCell<Activation: ElmanActivation>: RecurrentCell {
  static var gates: Int { 1 }
  static var saved: Int { 1 }  // hₜ, from which the derivative is read
  static var hasCellState: Bool { false }

  static func forward(
    xz: UnsafePointer<Float>, hz: UnsafePointer<Float>, hPrev: UnsafePointer<Float>,
    cPrev: UnsafePointer<Float>?, h: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>?,
    saved: UnsafeMutablePointer<Float>, rows: Int, hidden n: Int
  ) {
    for i in 0..<rows * n {
      h[i] = Activation.value(xz[i] + hz[i])
      saved[i] = h[i]
    }
  }

  static func backward(
    dh: UnsafePointer<Float>, dc: UnsafeMutablePointer<Float>?, saved: UnsafePointer<Float>,
    hPrev: UnsafePointer<Float>, cPrev: UnsafePointer<Float>?, c: UnsafePointer<Float>?,
    dxz: UnsafeMutablePointer<Float>, dhz: UnsafeMutablePointer<Float>,
    dhPrev: UnsafeMutablePointer<Float>, rows: Int, hidden n: Int
  ) {
    for i in 0..<rows * n {
      dxz[i] = dh[i] * Activation.derivative(output: saved[i])
      dhz[i] = dxz[i]
      dhPrev[i] = 0  // hₜ₋₁ reaches the loss only through W_hh
    }
  }
}
