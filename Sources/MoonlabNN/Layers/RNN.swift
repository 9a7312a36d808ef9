import Foundation
import MoonlabTensor

/// Elman RNN, one layer, h₀ = 0: hₜ = act(xₜ·W_ihᵀ + b_ih + hₜ₋₁·W_hhᵀ + b_hh), act = tanh
/// or relu. Input [T, N, in] (time first, PyTorch's default layout); output [T, N, hidden],
/// every step's hidden state (the last one is hₙ). Parameter names and the U(±1/√hidden)
/// init are PyTorch's (`weight_ih_l0`, …).
///
/// The whole unrolled sequence is one tape node: forward does all input projections in one
/// GEMM, then one GEMM per step; backward runs backpropagation through time in reverse
/// and the weight gradients are again single GEMMs over all steps.
public final class RNN: Module {
  public enum Nonlinearity: String { case tanh, relu }

  public let inputSize, hiddenSize: Int
  public let nonlinearity: Nonlinearity
  public let weightIH, weightHH, biasIH, biasHH: Tensor

  public init(_ inputSize: Int, _ hiddenSize: Int, nonlinearity: Nonlinearity = .tanh) throws {
    guard inputSize > 0, hiddenSize > 0 else {
      throw TensorError("RNN: sizes must be positive, got \(inputSize) -> \(hiddenSize)")
    }
    self.inputSize = inputSize
    self.hiddenSize = hiddenSize
    self.nonlinearity = nonlinearity
    try Shape.validate([hiddenSize, inputSize + hiddenSize], op: "RNN")  // before allocating
    weightIH = Tensor(zeros: [hiddenSize, inputSize])
    weightHH = Tensor(zeros: [hiddenSize, hiddenSize])
    biasIH = Tensor(zeros: [hiddenSize])
    biasHH = Tensor(zeros: [hiddenSize])
    super.init()
    for (name, t) in [
      ("weight_ih_l0", weightIH), ("weight_hh_l0", weightHH), ("bias_ih_l0", biasIH),
      ("bias_hh_l0", biasHH),
    ] {
      Init.uniform(t, bound: 1 / Float(hiddenSize).squareRoot())
      param(name, t)
    }
  }

  public override var extraDescription: String {
    "\(inputSize) -> \(hiddenSize), \(nonlinearity.rawValue)"
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    guard x.rank == 3, x.shape[2] == inputSize else {
      throw TensorError("RNN: expected input [T,N,\(inputSize)], got \(describeShape(x.shape))")
    }
    let (steps, batch, nIn, nH) = (x.shape[0], x.shape[1], inputSize, hiddenSize)
    let rows = steps * batch
    let stepSize = batch * nH
    let h = Tensor(zeros: [steps, batch, nH])
    let act = nonlinearity
    let (px, ph, wih, whh) = (x.data, h.data, weightIH.data, weightHH.data)
    guard rows > 0 else { return h }
    // All input projections at once: h ← x·W_ihᵀ + b_ih + b_hh, then the recurrence.
    for r in 0..<rows {
      let row = ph + r * nH
      for j in 0..<nH { row[j] = biasIH.data[j] + biasHH.data[j] }
    }
    sgemm(
      transA: false, transB: true, m: rows, n: nH, k: nIn, a: px, lda: nIn, b: wih, ldb: nIn,
      beta: 1, c: ph, ldc: nH)
    for t in 0..<steps {
      let z = ph + t * stepSize
      if t > 0 {
        sgemm(
          transA: false, transB: true, m: batch, n: nH, k: nH, a: z - stepSize, lda: nH, b: whh,
          ldb: nH, beta: 1,
          c: z, ldc: nH)
      }
      switch act {
      case .tanh: for i in 0..<stepSize { z[i] = Foundation.tanh(z[i]) }
      case .relu: for i in 0..<stepSize { z[i] = max(z[i], 0) }
      }
    }
    return Autograd.record("RNN", output: h, inputs: [x, weightIH, weightHH, biasIH, biasHH]) {
      [x = x.detach(), needX = x.requiresGrad, h = h.detach(), weightIH, weightHH] g in
      let dz = Tensor(zeros: h.shape)
      let carry = Tensor(zeros: [batch, nH])  // ∂L/∂hₜ from step t+1
      let (pdz, pc, pg, ph) = (dz.data, carry.data, g.data, h.data)
      for t in stride(from: steps - 1, through: 0, by: -1) {
        let off = t * stepSize
        for i in 0..<stepSize {
          let dh = pg[off + i] + pc[i]
          let y = ph[off + i]
          // tanh' = 1 − tanh², relu' = [h > 0], both read from the saved output.
          pdz[off + i] = act == .tanh ? dh * (1 - y * y) : (y > 0 ? dh : 0)
        }
        if t > 0 {
          sgemm(
            transA: false, transB: false, m: batch, n: nH, k: nH, a: pdz + off, lda: nH,
            b: weightHH.data, ldb: nH,
            c: pc, ldc: nH)
        }
      }
      let gih = Tensor(zeros: weightIH.shape)
      let ghh = Tensor(zeros: weightHH.shape)
      let gb = Tensor(zeros: [nH])
      sgemm(
        transA: true, transB: false, m: nH, n: nIn, k: rows, a: pdz, lda: nH, b: x.data, ldb: nIn,
        c: gih.data, ldc: nIn)
      if steps > 1 {
        // dW_hh = Σ_{t≥1} dzₜᵀ·hₜ₋₁
        sgemm(
          transA: true, transB: false, m: nH, n: nH, k: rows - batch, a: pdz + stepSize, lda: nH,
          b: ph, ldb: nH,
          c: ghh.data, ldc: nH)
      }
      for r in 0..<rows {
        let row = pdz + r * nH
        for j in 0..<nH { gb.data[j] += row[j] }
      }
      var gx: Tensor?
      if needX {
        let t = Tensor(zeros: x.shape)
        sgemm(
          transA: false, transB: false, m: rows, n: nIn, k: nH, a: pdz, lda: nH, b: weightIH.data,
          ldb: nIn, c: t.data, ldc: nIn)
        gx = t
      }
      return [gx, gih, ghh, gb, gb]  // b_ih and b_hh enter the sum alike
    }
  }
}
