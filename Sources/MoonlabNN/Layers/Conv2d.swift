import MoonlabTensor

/// 2-D convolution (cross-correlation, as in PyTorch) of an [N, Cin, H, W] input with a
/// [Cout, Cin, k, k] weight, zero padding and stride. Weight and bias start as
/// U(±1/√(Cin·k·k)), PyTorch's default.
///
/// Each image is lowered with im2col to a [Cin·k·k, Hout·Wout] matrix and multiplied by
/// the weight in one GEMM. The batch is split into one chunk per thread; each chunk has
/// its own column buffer and, in backward, its own partial dW/db, added in chunk order.
public final class Conv2d: Module {
  public let inChannels, outChannels, kernelSize, stride, padding: Int
  public let weight: Tensor
  public let bias: Tensor?
  private let scratch = Workspace()

  public init(
    _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
    bias: Bool = true
  ) throws {
    guard inChannels > 0, outChannels > 0, kernelSize > 0, stride > 0, padding >= 0 else {
      throw TensorError(
        "Conv2d: channels, kernel size and stride must be positive and padding ≥ 0, got \(inChannels) -> \(outChannels), kernel \(kernelSize), stride \(stride), padding \(padding)"
      )
    }
    try Shape.validate([outChannels, inChannels, kernelSize, kernelSize], op: "Conv2d")
    self.inChannels = inChannels
    self.outChannels = outChannels
    self.kernelSize = kernelSize
    self.stride = stride
    self.padding = padding
    weight = Tensor(zeros: [outChannels, inChannels, kernelSize, kernelSize])
    self.bias = bias ? Tensor(zeros: [outChannels]) : nil
    super.init()
    registerWeightAndBias(weight, self.bias, fanIn: inChannels * kernelSize * kernelSize)
  }

  public override var extraDescription: String {
    "\(inChannels) -> \(outChannels), kernel \(kernelSize)"
      + (stride != 1 ? ", stride \(stride)" : "")
      + (padding != 0 ? ", padding \(padding)" : "") + (bias == nil ? ", no bias" : "")
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    guard x.rank == 4, x.shape[1] == inChannels else {
      throw TensorError(
        "Conv2d: expected input [N,\(inChannels),H,W], got \(describeShape(x.shape))")
    }
    let geo = ConvGeometry(
      channels: inChannels, height: x.shape[2], width: x.shape[3], kernel: kernelSize,
      stride: stride,
      padding: padding)
    guard x.shape[2] + 2 * padding >= kernelSize, x.shape[3] + 2 * padding >= kernelSize else {
      throw TensorError(
        "Conv2d: input \(describeShape(x.shape)) is smaller than the \(kernelSize)x\(kernelSize) kernel (padding \(padding))"
      )
    }
    let (batch, cin, cout, patch, plane) = (
      x.shape[0], inChannels, outChannels, geo.patchSize, geo.outPlane
    )
    let lowering = ConvLowering(geo)
    let work = cout * patch * plane
    let direct = DirectConv.applies(geo, outChannels: cout)
    let cols = lowering.columns
    let y = Tensor(uninitialized: [batch, cout, geo.outHeight, geo.outWidth])
    let (px, pw, py, pb) = (x.data, weight.data, y.data, bias?.data)
    if direct {
      let packed = scratch.pointer(DirectConv.packedCount(patch: patch))
      DirectConv.packWeights(pw, outChannels: cout, patch: patch, into: packed)
      forBatchChunks(batch, workPerItem: work) { _, images in
        for n in images {
          DirectConv.forward(
            geo, outChannels: cout, image: px + n * cin * geo.inPlane, packed: packed, bias: pb,
            output: py + n * cout * plane)
        }
      }
    } else {
      // Per chunk: the lowered image, and the row-padded GEMM output.
      let perChunk = patch * cols + (lowering.rowPadded ? cout * cols : 0)
      let scratchBase = scratch.pointer(batchChunks(batch, workPerItem: work) * perChunk)
      forBatchChunks(batch, workPerItem: work) { chunk, images in
        let col = scratchBase + chunk * perChunk
        let wide = col + patch * cols
        for n in images {
          let out = py + n * cout * plane
          lowering.lower(px + n * cin * geo.inPlane, col)
          // y_n[Cout, HW] = W[Cout, K] · col[K, HW] + b
          if lowering.rowPadded {
            sgemm(
              transA: false, transB: false, m: cout, n: cols, k: patch, a: pw, lda: patch, b: col,
              ldb: cols, c: wide, ldc: cols)
            lowering.compact(wide, rows: cout, bias: pb, out)
          } else {
            if let pb {
              for o in 0..<cout { (out + o * plane).update(repeating: pb[o], count: plane) }
            }
            sgemm(
              transA: false, transB: false, m: cout, n: cols, k: patch, a: pw, lda: patch, b: col,
              ldb: cols, beta: pb == nil ? 0 : 1, c: out, ldc: cols)
          }
        }
      }
    }
    // The input gradient of a stride-1 unpadded layer is itself a convolution (of the
    // padded output gradient); the direct kernel takes it when it has ≤ 6 outputs.
    let transposed = DirectConv.transposed(geo, outChannels: cout)
    let directInput =
      x.requiresGrad && stride == 1 && padding == 0
      && DirectConv.applies(transposed, outChannels: cin)
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    return Autograd.record("Conv2d", output: y, inputs: inputs) {
      [x = x.detach(), needX = x.requiresGrad, weight, hasBias = bias != nil, scratch] g in
      let gx = needX ? Tensor(uninitialized: x.shape) : nil
      let gw = Tensor(uninitialized: weight.shape)
      let gb = Tensor(uninitialized: [cout])
      let chunks = batchChunks(batch, workPerItem: work)
      // The GEMMs want g_n in the lowered (maybe row-padded) layout; the direct kernels don't.
      let gemmInput = needX && !directInput
      let expand = lowering.rowPadded && (!direct || gemmInput)
      // Shared: the transposed weights. Per chunk: lowered image, its gradient, row-padded
      // g_n, zero-padded g_n, then partial dW and db.
      let packedCount =
        directInput ? DirectConv.packedCount(patch: cout * geo.kernel * geo.kernel) : 0
      let (colCount, dcolCount) = (direct ? 0 : patch * cols, gemmInput ? patch * cols : 0)
      let wideCount = expand ? cout * cols : 0
      let paddedCount = directInput ? cout * transposed.inPlane : 0
      let partialsOffset = colCount + dcolCount + wideCount + paddedCount
      let perChunk = partialsOffset + cout * patch + cout
      let shared = scratch.pointer(packedCount + chunks * perChunk)
      let (px, pw, pg, pgx) = (x.data, weight.data, g.data, gx?.data)
      if directInput { DirectConv.packTransposedWeights(pw, geo, outChannels: cout, into: shared) }
      let base = shared + packedCount
      forBatchChunks(batch, workPerItem: work) { chunk, images in
        let col = base + chunk * perChunk
        let dcol = col + colCount
        let wide = dcol + dcolCount
        let padded = wide + wideCount
        let dw = col + partialsOffset
        let db = dw + cout * patch
        dw.update(repeating: 0, count: cout * patch + cout)
        for n in images {
          let gy = pg + n * cout * plane
          let image = px + n * cin * geo.inPlane
          if expand { lowering.expand(gy, rows: cout, wide) }
          let gyCols = lowering.rowPadded ? wide : gy
          if direct {
            DirectConv.weightGradient(
              geo, outChannels: cout, image: image, gradOutput: gy, partial: dw)
          } else {
            lowering.lower(image, col)
            // dW += g_n[Cout, cols] · col[K, cols]ᵀ (junk columns of g_n are zero)
            sgemm(
              transA: false, transB: true, m: cout, n: patch, k: cols, a: gyCols, lda: cols,
              b: col, ldb: cols, beta: 1, c: dw, ldc: patch)
          }
          for o in 0..<cout { db[o] += Reduce.sum(gy + o * plane, plane) }
          guard let pgx else { continue }
          let gradImage = pgx + n * cin * geo.inPlane
          if directInput {
            DirectConv.inputGradient(
              geo, outChannels: cout, gradOutput: gy, packedTransposed: shared, padded: padded,
              gradInput: gradImage)
          } else {
            // dcol = Wᵀ · g_n, then back to the image.
            sgemm(
              transA: true, transB: false, m: patch, n: cols, k: cout, a: pw, lda: patch, b: gyCols,
              ldb: cols, c: dcol, ldc: cols)
            lowering.raise(dcol, gradImage)
          }
        }
      }
      addChunkPartials(base + partialsOffset, chunks: chunks, stride: perChunk, into: [gw, gb])
      return hasBias ? [gx, gw, gb] : [gx, gw]
    }
  }
}
