import MoonlabTensor

/// One recurrent cell's arithmetic for a whole time step of B rows (LSTM, GRU), called by
/// `RecurrentStack`, which owns everything the cells share: the layers, the [T, B, F]
/// layout, the input and hidden projections (one GEMM each), the weight gradients and
/// the tape node (docs/nn.md, "LSTM and GRU").
protocol RecurrentCell {
  /// Gate blocks per hidden unit: W_ih is [gates·H, in] (4 for LSTM, 3 for GRU).
  static var gates: Int { get }
  /// Floats the step saves for backward, per hidden unit and row.
  static var saved: Int { get }
  /// True when the cell carries a cell state c beside h (LSTM).
  static var hasCellState: Bool { get }

  /// From xz = x·W_ihᵀ + b_ih and hz = hₜ₋₁·W_hhᵀ + b_hh ([B, gates·H] each) and the
  /// previous states, writes hₜ (and cₜ) and what backward needs.
  static func forward(
    xz: UnsafePointer<Float>, hz: UnsafePointer<Float>, hPrev: UnsafePointer<Float>,
    cPrev: UnsafePointer<Float>?, h: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>?,
    saved: UnsafeMutablePointer<Float>, rows: Int, hidden: Int)

  /// From dh = ∂L/∂hₜ (and dc = ∂L/∂cₜ, replaced by ∂L/∂cₜ₋₁), writes the gradients of
  /// xz and hz and the part of ∂L/∂hₜ₋₁ that doesn't pass through W_hh (into dhPrev).
  static func backward(
    dh: UnsafePointer<Float>, dc: UnsafeMutablePointer<Float>?, saved: UnsafePointer<Float>,
    hPrev: UnsafePointer<Float>, cPrev: UnsafePointer<Float>?, c: UnsafePointer<Float>?,
    dxz: UnsafeMutablePointer<Float>, dhz: UnsafeMutablePointer<Float>,
    dhPrev: UnsafeMutablePointer<Float>, rows: Int, hidden: Int)
}

/// A stack of `numLayers` recurrent layers over a [T, B, F] input ([B, T, F] with
/// `batchFirst`). Parameters per layer k are PyTorch's `weight_ih_lk` [gates·H, in],
/// `weight_hh_lk` [gates·H, H], `bias_ih_lk`, `bias_hh_lk` [gates·H], all U(±1/√H).
///
/// The whole sequence, all layers, is one tape node. Its output packs the output
/// sequence and the final states; `forward(_:states:)` hands them back as separate
/// tensors through `unpack` (docs/nn.md, "LSTM and GRU").
public class RecurrentStack: Module {
  public let inputSize, hiddenSize, numLayers: Int
  public let batchFirst: Bool
  /// Per layer: W_ih, W_hh, b_ih, b_hh.
  public let weights: [[Tensor]]
  let cell: RecurrentCell.Type

  init(
    _ cell: RecurrentCell.Type, _ inputSize: Int, _ hiddenSize: Int, numLayers: Int,
    batchFirst: Bool, op: String
  ) throws {
    guard inputSize > 0, hiddenSize > 0, numLayers > 0 else {
      throw TensorError(
        "\(op): sizes and number of layers must be positive, got \(inputSize) -> \(hiddenSize), \(numLayers) layers"
      )
    }
    let g = cell.gates * hiddenSize
    try Shape.validate([numLayers, g, max(inputSize, hiddenSize) + hiddenSize], op: op)
    self.cell = cell
    self.inputSize = inputSize
    self.hiddenSize = hiddenSize
    self.numLayers = numLayers
    self.batchFirst = batchFirst
    weights = (0..<numLayers).map { k in
      [
        Tensor(zeros: [g, k == 0 ? inputSize : hiddenSize]), Tensor(zeros: [g, hiddenSize]),
        Tensor(zeros: [g]), Tensor(zeros: [g]),
      ]
    }
    super.init()
    for (k, layer) in weights.enumerated() {
      for (name, t) in zip(["weight_ih", "weight_hh", "bias_ih", "bias_hh"], layer) {
        Init.uniform(t, bound: 1 / Float(hiddenSize).squareRoot())
        param("\(name)_l\(k)", t)
      }
    }
  }

  public override var extraDescription: String {
    "\(inputSize) -> \(hiddenSize)" + (numLayers > 1 ? ", \(numLayers) layers" : "")
      + (batchFirst ? ", batch first" : "")
  }

  /// How many state tensors go in and come out: 2 (h, c) for LSTM, 1 (h) for GRU.
  public var stateCount: Int { cell.hasCellState ? 2 : 1 }

  /// The output sequence alone (for a Sequential); states start at zero.
  public override func forward(_ x: Tensor) throws -> Tensor { try forward(x, states: [])[0] }

  /// [output, h_n] (+ c_n for LSTM) from x and the initial states ([numLayers, B, H]
  /// each; none means zeros). Gradients reach x, the weights and the initial states.
  public func forward(_ x: Tensor, states: [Tensor]) throws -> [Tensor] {
    let op = typeName
    let layout = batchFirst ? "[N,T,\(inputSize)]" : "[T,N,\(inputSize)]"
    guard x.rank == 3, x.shape[2] == inputSize, x.count > 0 else {
      throw TensorError(
        "\(op): expected a non-empty input \(layout), got \(describeShape(x.shape))")
    }
    let (steps, batch) = batchFirst ? (x.shape[1], x.shape[0]) : (x.shape[0], x.shape[1])
    let (nH, nL) = (hiddenSize, numLayers)
    let stateShape = [nL, batch, nH]
    guard states.isEmpty || states.count == stateCount else {
      throw TensorError("\(op): expected \(stateCount) initial states, got \(states.count)")
    }
    for (i, s) in states.enumerated() where s.shape != stateShape {
      throw TensorError(
        "\(op): initial state \(i + 1) should be \(describeShape(stateShape)), got \(describeShape(s.shape))"
      )
    }
    let initial = states.isEmpty ? (0..<stateCount).map { _ in Tensor(zeros: stateShape) } : states
    let rows = steps * batch
    let stepSize = batch * nH
    let cell = self.cell
    let g = cell.gates * nH
    // Time-major input of layer 0; each layer's hidden sequence is the next one's input.
    let x0 = batchFirst ? swapLeadingDims(x, batch, steps) : x.detach()
    // Per layer: h and c over time with the initial state in slot 0, the saved gate values.
    var hs: [Tensor] = []
    var cs: [Tensor] = []
    var saves: [Tensor] = []
    let xz = Tensor(uninitialized: [rows, g])
    let hz = Tensor(uninitialized: [batch, g])
    for l in 0..<nL {
      let (wih, whh, bih, bhh) = (weights[l][0], weights[l][1], weights[l][2], weights[l][3])
      let nIn = l == 0 ? inputSize : nH
      let input = l == 0 ? x0.data : hs[l - 1].data + stepSize
      let h = Tensor(uninitialized: [steps + 1, batch, nH])
      let c = cell.hasCellState ? Tensor(uninitialized: [steps + 1, batch, nH]) : nil
      let saved = Tensor(uninitialized: [rows, cell.saved * nH])
      h.data.update(from: initial[0].data + l * stepSize, count: stepSize)
      c?.data.update(from: initial[1].data + l * stepSize, count: stepSize)
      fillRows(xz.data, bih.data, rows: rows, width: g)
      parallelSgemm(
        transA: false, transB: true, m: rows, n: g, k: nIn, a: input, lda: nIn, b: wih.data,
        ldb: nIn, beta: 1, c: xz.data, ldc: g)
      for t in 0..<steps {
        let (prev, next) = (t * stepSize, (t + 1) * stepSize)
        fillRows(hz.data, bhh.data, rows: batch, width: g)
        parallelSgemm(
          transA: false, transB: true, m: batch, n: g, k: nH, a: h.data + prev, lda: nH,
          b: whh.data, ldb: nH, beta: 1, c: hz.data, ldc: g)
        cell.forward(
          xz: xz.data + t * batch * g, hz: hz.data, hPrev: h.data + prev,
          cPrev: c.map { $0.data + prev },
          h: h.data + next, c: c.map { $0.data + next },
          saved: saved.data + t * batch * cell.saved * nH,
          rows: batch, hidden: nH)
      }
      hs.append(h)
      if let c { cs.append(c) }
      saves.append(saved)
    }
    // Packed output: the last layer's sequence (in the input's layout), then h_n, c_n.
    let packed = Tensor(uninitialized: [rows * nH + stateCount * nL * stepSize])
    let top = hs[nL - 1].data + stepSize
    copyLeadingDims(from: top, to: packed.data, steps, batch, nH, swap: batchFirst)
    for (s, seq) in [hs, cs].prefix(stateCount).enumerated() {
      for l in 0..<nL {
        (packed.data + rows * nH + (s * nL + l) * stepSize).update(
          from: seq[l].data + steps * stepSize, count: stepSize)
      }
    }
    let inputs = [x] + initial + weights.flatMap { $0 }
    let output = Autograd.record(op, output: packed, inputs: inputs) {
      [weights, batchFirst, stateCount, x0, hs, cs, saves] gPacked in
      let gInitial = (0..<stateCount).map { _ in Tensor(uninitialized: [nL, batch, nH]) }
      var gWeights: [[Tensor?]] = []
      // ∂L/∂(layer output sequence), time-major; becomes the layer below's after each layer.
      var dSeq = Tensor(uninitialized: [rows, nH])
      copyLeadingDims(from: gPacked.data, to: dSeq.data, batch, steps, nH, swap: batchFirst)
      let dxz = Tensor(uninitialized: [rows, g])
      let dhz = Tensor(uninitialized: [rows, g])
      let dh = Tensor(uninitialized: [batch, nH])
      let dhTotal = Tensor(uninitialized: [batch, nH])
      for l in stride(from: nL - 1, through: 0, by: -1) {
        let (wih, whh) = (weights[l][0], weights[l][1])
        let nIn = l == 0 ? x0.shape[2] : nH
        let (h, c, saved) = (hs[l].data, cell.hasCellState ? cs[l].data : nil, saves[l].data)
        let dc = cell.hasCellState ? gInitial[1].data + l * stepSize : nil
        dh.data.update(from: gPacked.data + rows * nH + l * stepSize, count: stepSize)
        dc?.update(from: gPacked.data + rows * nH + (nL + l) * stepSize, count: stepSize)
        for t in stride(from: steps - 1, through: 0, by: -1) {
          let (prev, next) = (t * stepSize, (t + 1) * stepSize)
          let (pdh, pt, ps) = (dh.data, dhTotal.data, dSeq.data + prev)
          for i in 0..<stepSize { pt[i] = pdh[i] + ps[i] }
          let (dxzT, dhzT) = (dxz.data + t * batch * g, dhz.data + t * batch * g)
          cell.backward(
            dh: dhTotal.data, dc: dc, saved: saved + t * batch * cell.saved * nH, hPrev: h + prev,
            cPrev: c.map { $0 + prev }, c: c.map { $0 + next }, dxz: dxzT, dhz: dhzT,
            dhPrev: dh.data, rows: batch, hidden: nH)
          // ∂L/∂hₜ₋₁ += dhz·W_hh
          parallelSgemm(
            transA: false, transB: false, m: batch, n: nH, k: g, a: dhzT, lda: g, b: whh.data,
            ldb: nH, beta: 1, c: dh.data, ldc: nH)
        }
        gInitial[0].data.advanced(by: l * stepSize).update(from: dh.data, count: stepSize)
        let input = l == 0 ? x0.data : hs[l - 1].data + stepSize
        gWeights.insert(
          weightGradients(
            weights[l], input: input, hidden: h, dxz: dxz.data, dhz: dhz.data, rows: rows,
            batch: batch, nIn: nIn, nH: nH), at: 0)
        // ∂L/∂(this layer's input) = dxz·W_ih
        let dInput = Tensor(uninitialized: [rows, nIn])
        parallelSgemm(
          transA: false, transB: false, m: rows, n: nIn, k: g, a: dxz.data, lda: g, b: wih.data,
          ldb: nIn, c: dInput.data, ldc: nIn)
        dSeq = dInput
      }
      let nX = x0.shape[2]
      let gx = Tensor(uninitialized: batchFirst ? [batch, steps, nX] : [steps, batch, nX])
      copyLeadingDims(from: dSeq.data, to: gx.data, steps, batch, nX, swap: batchFirst)
      return [gx] + gInitial
        + gWeights.flatMap { $0 }
    }
    let outShape = batchFirst ? [batch, steps, nH] : [steps, batch, nH]
    return unpack(output, [outShape] + Array(repeating: stateShape, count: stateCount), op: op)
  }

}

/// dW_ih = dxzᵀ·input, dW_hh = dhzᵀ·[h₀ … hₜ₋₁], db_ih = Σ dxz, db_hh = Σ dhz; nil for a
/// layer whose parameters are all frozen (docs/nn.md, "Containers, sharing and freezing").
private func weightGradients(
  _ layer: [Tensor], input: UnsafePointer<Float>, hidden: UnsafePointer<Float>,
  dxz: UnsafePointer<Float>, dhz: UnsafePointer<Float>, rows: Int, batch: Int, nIn: Int, nH: Int
) -> [Tensor?] {
  guard layer.contains(where: \.requiresGrad) else { return [nil, nil, nil, nil] }
  let g = layer[2].count
  let (gih, ghh, gbih, gbhh) = (
    Tensor(uninitialized: [g, nIn]), Tensor(uninitialized: [g, nH]), Tensor(zeros: [g]),
    Tensor(zeros: [g])
  )
  parallelSgemm(
    transA: true, transB: false, m: g, n: nIn, k: rows, a: dxz, lda: g, b: input, ldb: nIn,
    c: gih.data, ldc: nIn)
  parallelSgemm(
    transA: true, transB: false, m: g, n: nH, k: rows, a: dhz, lda: g, b: hidden, ldb: nH,
    c: ghh.data, ldc: nH)
  for r in 0..<rows {
    let (a, b) = (dxz + r * g, dhz + r * g)
    for j in 0..<g {
      gbih.data[j] += a[j]
      gbhh.data[j] += b[j]
    }
  }
  return [gih, ghh, gbih, gbhh]
}

/// Every row of `dst` ([rows, width]) set to `row`.
private func fillRows(
  _ dst: UnsafeMutablePointer<Float>, _ row: UnsafePointer<Float>, rows: Int, width: Int
) {
  for r in 0..<rows { (dst + r * width).update(from: row, count: width) }
}

/// [a, b, inner] → [b, a, inner] when `swap` (batch-first ↔ time-major), else a copy.
private func copyLeadingDims(
  from src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, _ a: Int, _ b: Int,
  _ inner: Int, swap: Bool
) {
  guard swap else { return dst.update(from: src, count: a * b * inner) }
  for i in 0..<a {
    for j in 0..<b {
      (dst + (j * a + i) * inner).update(from: src + (i * b + j) * inner, count: inner)
    }
  }
}

/// x [B, T, F] as a new time-major [T, B, F] tensor.
private func swapLeadingDims(_ x: Tensor, _ batch: Int, _ steps: Int) -> Tensor {
  let out = Tensor(uninitialized: [steps, batch, x.shape[2]])
  copyLeadingDims(from: x.data, to: out.data, batch, steps, x.shape[2], swap: true)
  return out
}

/// Splits a flat tensor into consecutive pieces of the given shapes, each its own tape
/// node whose backward places the piece's gradient in a zero tensor of the packed size:
/// how one node hands back several outputs (a recurrent layer's sequence and states).
func unpack(_ packed: Tensor, _ shapes: [[Int]], op: String) -> [Tensor] {
  var offset = 0
  return shapes.map { shape in
    let piece = Tensor(uninitialized: shape)
    let start = offset
    offset += piece.count
    piece.data.update(from: packed.data + start, count: piece.count)
    return Autograd.record(op, output: piece, inputs: [packed]) { [total = packed.count] g in
      let gp = Tensor(zeros: [total])
      (gp.data + start).update(from: g.data, count: g.count)
      return [gp]
    }
  }
}
