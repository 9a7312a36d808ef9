import MoonlabTensor

/// y = x·Wᵀ + b over the last dimension (input [N, in] or [*, in]).
/// Weight [out, in] and bias [out] start as U(±1/√in), PyTorch's default.
///
/// The rows are split into one chunk per thread (for batches big enough, `batchChunks`),
/// each a single-threaded GEMM (dW and db
/// as per-chunk partial sums added in chunk order), like Conv2d: OpenBLAS's own threads
/// then never wake, so they never spin against our pool (docs/nn.md, "Linear").
public final class Linear: Module {
  public let inFeatures, outFeatures: Int
  public let weight: Tensor
  public let bias: Tensor?
  private let scratch = Workspace()

  public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) throws {
    guard inFeatures > 0, outFeatures > 0 else {
      throw TensorError("Linear: sizes must be positive, got \(inFeatures) -> \(outFeatures)")
    }
    try Shape.validate([outFeatures, inFeatures], op: "Linear")  // before allocating it
    self.inFeatures = inFeatures
    self.outFeatures = outFeatures
    weight = Tensor(zeros: [outFeatures, inFeatures])
    self.bias = bias ? Tensor(zeros: [outFeatures]) : nil
    super.init()
    registerWeightAndBias(weight, self.bias, fanIn: inFeatures)
  }

  public override var extraDescription: String {
    "\(inFeatures) -> \(outFeatures)" + (bias == nil ? ", no bias" : "")
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    guard x.rank >= 1, x.shape[x.rank - 1] == inFeatures else {
      throw TensorError("Linear: expected input [N,\(inFeatures)], got \(describeShape(x.shape))")
    }
    let (rows, nIn, nOut) = (x.count / inFeatures, inFeatures, outFeatures)
    let y = Tensor(uninitialized: Array(x.shape.dropLast()) + [nOut])
    let (px, pw, py, pb) = (x.data, weight.data, y.data, bias?.data)
    let work = nIn * nOut
    forBatchChunks(rows, workPerItem: work) { _, r in
      guard !r.isEmpty else { return }
      if let pb {
        for i in r { (py + i * nOut).update(from: pb, count: nOut) }
      }
      // y[r] = x[r]·Wᵀ (+ bias already in y)
      sgemm(
        transA: false, transB: true, m: r.count, n: nOut, k: nIn, a: px + r.lowerBound * nIn,
        lda: nIn, b: pw,
        ldb: nIn, beta: pb == nil ? 0 : 1, c: py + r.lowerBound * nOut, ldc: nOut)
    }
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    return Autograd.record("Linear", output: y, inputs: inputs) {
      [
        x = x.detach(), needX = x.requiresGrad,
        needW = weight.requiresGrad || (bias?.requiresGrad ?? false), weight,
        hasBias = bias != nil, scratch
      ] g in
      let gx = needX ? Tensor(uninitialized: x.shape) : nil
      // Frozen weight and bias (docs/nn.md, "Containers, sharing and freezing"): no dW GEMM.
      let gw = needW ? Tensor(uninitialized: weight.shape) : nil
      let gb = needW ? Tensor(uninitialized: [nOut]) : nil
      let chunks = batchChunks(rows, workPerItem: work)
      // One chunk writes dW and db straight into the gradients; several write partial
      // sums, added in chunk order afterwards.
      let direct = chunks == 1
      let perChunk = nOut * nIn + nOut
      let partials = try scratch.pointer(needW && !direct ? chunks * perChunk : 0, op: "Linear")
      let (px, pw, pg, pgx) = (x.data, weight.data, g.data, gx?.data)
      let (pgw, pgb) = (gw?.data, gb?.data)
      forBatchChunks(rows, workPerItem: work) { chunk, r in
        let (gr, xr) = (pg + r.lowerBound * nOut, px + r.lowerBound * nIn)
        if needW {
          let dw = direct ? pgw ?? partials : partials + chunk * perChunk
          let db = direct ? pgb ?? partials : dw + nOut * nIn
          db.update(repeating: 0, count: nOut)
          if r.isEmpty {  // an empty batch: no GEMM to overwrite dW
            dw.update(repeating: 0, count: nOut * nIn)
          } else {
            // dW = g[r]ᵀ·x[r], db = Σ_r g
            sgemm(
              transA: true, transB: false, m: nOut, n: nIn, k: r.count, a: gr, lda: nOut, b: xr,
              ldb: nIn, c: dw, ldc: nIn)
            for i in 0..<r.count {
              let row = gr + i * nOut
              for o in 0..<nOut { db[o] += row[o] }
            }
          }
        }
        if let pgx, !r.isEmpty {
          // dx[r] = g[r]·W
          sgemm(
            transA: false, transB: false, m: r.count, n: nIn, k: nOut, a: gr, lda: nOut, b: pw,
            ldb: nIn,
            c: pgx + r.lowerBound * nIn, ldc: nIn)
        }
      }
      if let gw, let gb, !direct {
        addChunkPartials(partials, chunks: chunks, stride: perChunk, into: [gw, gb])
      }
      return hasBias ? [gx, gw, gb] : [gx, gw]
    }
  }
}
