import MoonlabTensor

/// y = x·Wᵀ + b over the last dimension (input [N, in] or [*, in]).
/// Weight [out, in] and bias [out] start as U(±1/√in), PyTorch's default.
///
/// The forward pass and dX split the rows into one chunk per thread (for batches big
/// enough, `batchChunks`); dW and db split the output features instead, each chunk one
/// GEMM over every row. Each chunk is a single-threaded GEMM, so OpenBLAS's own threads
/// never wake to spin against our pool, and no chunk needs partial sums to be added
/// afterwards: dW is the same whatever the thread count (docs/nn.md, "Linear").
public final class Linear: Module {
  public let inFeatures, outFeatures: Int
  public let weight: Tensor
  public let bias: Tensor?

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
    // A batch of a few rows skips OpenBLAS's packing (SmallGEMM), in all three products.
    let small = rows <= SmallGEMM.rowLimit
    forBatchChunks(rows, workPerItem: work) { _, r in
      guard !r.isEmpty else { return }
      if let pb {
        for i in r { (py + i * nOut).update(from: pb, count: nOut) }
      }
      // y[r] = x[r]·Wᵀ (+ bias already in y)
      sgemm(
        transA: false, transB: true, m: r.count, n: nOut, k: nIn, a: px + r.lowerBound * nIn,
        lda: nIn, b: pw,
        ldb: nIn, beta: pb == nil ? 0 : 1, c: py + r.lowerBound * nOut, ldc: nOut, small: small)
    }
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    return Autograd.record("Linear", output: y, inputs: inputs) {
      [
        x = x.detach(), needX = x.requiresGrad,
        needW = weight.requiresGrad || (bias?.requiresGrad ?? false), weight,
        hasBias = bias != nil, small
      ] g in
      let gx = needX ? Tensor(uninitialized: x.shape) : nil
      // Frozen weight and bias (docs/nn.md, "Containers, sharing and freezing"): no dW GEMM.
      let gw = needW ? Tensor(uninitialized: weight.shape) : nil
      let gb = needW ? Tensor(uninitialized: [nOut]) : nil
      let (px, pw, pg) = (x.data, weight.data, g.data)
      if let pgw = gw?.data, let pgb = gb?.data {
        forBatchChunks(nOut, workPerItem: rows * nIn) { _, o in
          guard !o.isEmpty else { return }
          let (dw, db) = (pgw + o.lowerBound * nIn, pgb + o.lowerBound)
          db.update(repeating: 0, count: o.count)
          guard rows > 0 else {  // an empty batch: no GEMM to overwrite dW
            dw.update(repeating: 0, count: o.count * nIn)
            return
          }
          // dW[o] = g[:, o]ᵀ·x, db[o] = Σ_rows g[:, o]
          sgemm(
            transA: true, transB: false, m: o.count, n: nIn, k: rows, a: pg + o.lowerBound,
            lda: nOut, b: px, ldb: nIn, c: dw, ldc: nIn, small: small)
          for i in 0..<rows {
            let row = pg + i * nOut + o.lowerBound
            for j in 0..<o.count { db[j] += row[j] }
          }
        }
      }
      if let pgx = gx?.data {
        forBatchChunks(rows, workPerItem: work) { _, r in
          guard !r.isEmpty else { return }
          // dx[r] = g[r]·W
          sgemm(
            transA: false, transB: false, m: r.count, n: nIn, k: nOut, a: pg + r.lowerBound * nOut,
            lda: nOut, b: pw, ldb: nIn, c: pgx + r.lowerBound * nIn, ldc: nIn, small: small)
        }
      }
      return hasBias ? [gx, gw, gb] : [gx, gw]
    }
  }
}
