/// How a convolution computes a batch of one input shape: which kernels run and how the
/// work and scratch are cut (docs/nn.md, "Conv2d"). Conv2d makes one per forward call (a
/// few integers), calls `forward`, then `backward` from its tape node.
///
/// The batch is split into one chunk per thread (`forBatchChunks`), each with its own
/// scratch and partial dW/db, summed in chunk order, so results are bit-identical for a
/// given thread count. Inside a chunk, `group` images are lowered side by side into one
/// [C·k·k, group·columns] matrix so a single GEMM covers them: a ResNet 8×8 image gives only
/// 64 columns, too thin a GEMM for OpenBLAS's packing to pay off.
public struct ConvPlan {
  public let geometry: ConvGeometry
  public let outChannels: Int
  public let batch: Int
  public let lowering: ConvLowering
  /// Forward and the weight gradient run `DirectConv`'s kernels instead of GEMMs.
  public let direct: Bool
  /// All three passes run Winograd's F(2×2, 3×3) (`Winograd`) or F(4×4, 3×3)
  /// (`Winograd4`, when `winograd4`) instead of im2col.
  public let winograd: Bool
  public let winograd4: Bool
  /// The input gradient runs `DirectConv` on the transposed convolution.
  public let directInput: Bool
  /// Images lowered (or Winograd-transformed) side by side into one GEMM.
  public let group: Int
  /// Multiply-adds per image and pass, and the chunks `forBatchChunks` cuts the batch into.
  let work: Int
  let chunks: Int

  /// GEMM columns a group aims at: lowered pixels, or Winograd tiles (docs/nn.md,
  /// "Performance").
  public static let groupColumns = 256
  public static let groupTiles = 128

  /// Fewer input channels make Winograd's products too short a GEMM to beat im2col
  /// (docs/nn.md, "Performance").
  public static let winogradChannels = 8

  /// `winograd4` forces F(4×4) (true) or F(2×2) (false) on a Winograd layer, for tests and
  /// benchmarks; nil picks by shape (`Winograd4.preferred`).
  public init(_ g: ConvGeometry, outChannels: Int, batch: Int, winograd4: Bool? = nil) {
    geometry = g
    self.outChannels = outChannels
    self.batch = batch
    lowering = ConvLowering(g)
    direct = DirectConv.applies(g, outChannels: outChannels)
    winograd = Winograd.applies(g) && g.channels >= Self.winogradChannels
    self.winograd4 = winograd && (winograd4 ?? Winograd4.preferred(g, outChannels: outChannels))
    directInput =
      g.isSquare && g.stride == 1 && g.padding == 0
      && DirectConv.applies(
        DirectConv.transposed(g, outChannels: outChannels), outChannels: g.channels)
    work = outChannels * g.patchSize * g.outPlane
    chunks = batchChunks(batch, workPerItem: work)
    let largestChunk = (batch + chunks - 1) / chunks
    let perImage =
      !winograd
      ? lowering.columns
      : self.winograd4 ? Winograd4.tilesPerImage(g) : Winograd.tilesPerImage(g)
    group = max(1, min(largestChunk, (winograd ? Self.groupTiles : Self.groupColumns) / perImage))
  }

  /// What runs, for tests and benchmarks: "direct", or the lowering and group size.
  public var description: String {
    (direct
      ? "direct"
      : "\(winograd ? (winograd4 ? "winograd4" : "winograd") : "\(lowering.kind)") x\(group)")
      + (directInput ? ", direct dX" : "")
  }

  var inSize: Int { geometry.channels * geometry.inPlane }
  var outSize: Int { outChannels * geometry.outPlane }

  /// output[N, Cout, Hout, Wout] = input ⋆ weight + bias.
  public func forward(
    input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
    output: UnsafeMutablePointer<Float>, scratch: Workspace
  ) throws {
    let (g, cout, patch) = (geometry, outChannels, geometry.patchSize)
    if winograd {
      return try winogradForward(
        input: input, weight: weight, bias: bias, output: output, scratch: scratch)
    }
    if direct {
      let packed = try scratch.pointer(DirectConv.packedCount(patch: patch), op: "Conv2d")
      DirectConv.packWeights(weight, outChannels: cout, patch: patch, into: packed)
      forBatchChunks(batch, workPerItem: work) { _, images in
        for n in images {
          DirectConv.forward(
            g, outChannels: cout, image: input + n * inSize, packed: packed, bias: bias,
            output: output + n * outSize)
        }
      }
      return
    }
    // Per chunk: the lowered group, and the GEMM's output before it is spread into images.
    let (colCount, wideCount) = (patch * group * lowering.columns, cout * group * lowering.columns)
    let perChunk = colCount + wideCount
    let base = try scratch.pointer(chunks * perChunk, op: "Conv2d")
    forBatchChunks(batch, workPerItem: work) { chunk, images in
      let cols = base + chunk * perChunk
      let wide = cols + colCount
      for first in stride(from: images.lowerBound, to: images.upperBound, by: group) {
        let count = min(group, images.upperBound - first)
        let ld = count * lowering.columns
        let b = lowered(input + first * inSize, count: count, into: cols)
        let out = output + first * outSize
        if count == 1 && lowering.kind != .rowPadded {
          // One image: the GEMM writes it in place (on top of the bias).
          if let bias {
            for o in 0..<cout { (out + o * ld).update(repeating: bias[o], count: ld) }
          }
          sgemm(
            transA: false, transB: false, m: cout, n: ld, k: patch, a: weight, lda: patch, b: b,
            ldb: ld, beta: bias == nil ? 0 : 1, c: out, ldc: ld)
          continue
        }
        // wide[Cout, count·columns] = W[Cout, K] · cols[K, count·columns]
        sgemm(
          transA: false, transB: false, m: cout, n: ld, k: patch, a: weight, lda: patch, b: b,
          ldb: ld, c: wide, ldc: ld)
        for i in 0..<count {
          lowering.compact(
            wide + i * lowering.columns, rowStride: ld, rows: cout, bias: bias,
            out + i * outSize)
        }
      }
    }
  }

  /// The gradients for gradOutput [N, Cout, Hout, Wout]: gradWeight and gradBias, when
  /// given, are overwritten; so is gradInput, with [N, Cin, H, W]. `input` is read only for
  /// gradWeight. Without gradWeight this is ConvTranspose2d's forward (docs/nn.md,
  /// "ConvTranspose2d").
  public func backward(
    gradOutput: UnsafePointer<Float>, input: UnsafePointer<Float>?, weight: UnsafePointer<Float>,
    gradInput: UnsafeMutablePointer<Float>?, gradWeight: Tensor?, gradBias: Tensor?,
    scratch: Workspace
  ) throws {
    let input = gradWeight == nil ? nil : input
    if winograd {
      return try winogradBackward(
        gradOutput: gradOutput, input: input, weight: weight, gradInput: gradInput,
        gradWeight: gradWeight, gradBias: gradBias, scratch: scratch)
    }
    let (g, cout, patch, columns) = (geometry, outChannels, geometry.patchSize, lowering.columns)
    let needX = gradInput != nil
    // The GEMMs want g_n in the lowered layout, side by side; the direct kernels don't.
    let gemmInput = needX && !directInput
    let gathered = !direct || gemmInput
    // Shared: the transposed weights. Per chunk: lowered group, its gradient, gathered
    // output gradient, zero-padded g_n, then partial dW and db.
    let transposed = DirectConv.transposed(g, outChannels: cout)
    let packedCount =
      needX && directInput ? DirectConv.packedCount(patch: cout * g.kernel * g.kernel) : 0
    let colCount = direct ? 0 : patch * group * columns
    let dcolCount = gemmInput ? patch * group * columns : 0
    let wideCount = gathered ? cout * group * columns : 0
    let paddedCount = needX && directInput ? cout * transposed.inPlane : 0
    let partialsOffset = colCount + dcolCount + wideCount + paddedCount
    let weightCount = input == nil ? 0 : cout * patch
    let partialCount = weightCount + (gradBias == nil ? 0 : cout)
    let perChunk = partialsOffset + partialCount
    let shared = try scratch.pointer(packedCount + chunks * perChunk, op: "Conv2d")
    if packedCount > 0 {
      DirectConv.packTransposedWeights(weight, g, outChannels: cout, into: shared)
    }
    let base = shared + packedCount
    forBatchChunks(batch, workPerItem: work) { chunk, images in
      let cols = base + chunk * perChunk
      let dcol = cols + colCount
      let wide = dcol + dcolCount
      let padded = wide + wideCount
      let dw = cols + partialsOffset
      let db = dw + weightCount
      dw.update(repeating: 0, count: partialCount)
      for first in stride(from: images.lowerBound, to: images.upperBound, by: group) {
        let count = min(group, images.upperBound - first)
        let ld = count * columns
        let gy = gradOutput + first * outSize
        let gyCols = gathered ? spread(gy, count: count, into: wide) : gy
        if let input, direct {
          for i in 0..<count {
            DirectConv.weightGradient(
              g, outChannels: cout, image: input + (first + i) * inSize,
              gradOutput: gy + i * outSize, partial: dw)
          }
        } else if let input {
          // dW += g[Cout, count·columns] · cols[K, count·columns]ᵀ (junk columns of g are 0)
          let b = lowered(input + first * inSize, count: count, into: cols)
          sgemm(
            transA: false, transB: true, m: cout, n: patch, k: ld, a: gyCols, lda: ld, b: b,
            ldb: ld, beta: 1, c: dw, ldc: patch)
        }
        if gradBias != nil { addBiasGradient(gy, count: count, into: db) }
        guard let gradInput else { continue }
        let gx = gradInput + first * inSize
        if directInput {
          for i in 0..<count {
            DirectConv.inputGradient(
              g, outChannels: cout, gradOutput: gy + i * outSize, packedTransposed: shared,
              padded: padded, gradInput: gx + i * inSize)
          }
          continue
        }
        // dcol = Wᵀ · g, then back to the images (a single 1×1 image: straight into it).
        let inPlace = count == 1 && lowering.kind == .identity
        sgemm(
          transA: true, transB: false, m: patch, n: ld, k: cout, a: weight, lda: patch, b: gyCols,
          ldb: ld, c: inPlace ? gx : dcol, ldc: ld)
        if inPlace { continue }
        for i in 0..<count {
          lowering.raise(dcol + i * columns, rowStride: ld, gx + i * inSize)
        }
      }
    }
    addChunkPartials(
      base + partialsOffset, chunks: chunks, stride: perChunk,
      into: [gradWeight, gradBias].compactMap { $0 })
  }

  /// db[o] += Σ of channel o of `count` output gradients from `gradOutput`.
  func addBiasGradient(
    _ gradOutput: UnsafePointer<Float>, count: Int, into db: UnsafeMutablePointer<Float>
  ) {
    let plane = geometry.outPlane
    for i in 0..<count {
      for o in 0..<outChannels { db[o] += Reduce.sum(gradOutput + i * outSize + o * plane, plane) }
    }
  }

  /// The lowered matrix [K, count·columns] of `count` images from `images`: written into
  /// `cols`, or a single 1×1 stride-1 image itself.
  func lowered(
    _ images: UnsafePointer<Float>, count: Int, into cols: UnsafeMutablePointer<Float>
  ) -> UnsafePointer<Float> {
    if count == 1 && lowering.kind == .identity { return images }
    for i in 0..<count {
      lowering.lower(
        images + i * inSize, cols + i * lowering.columns, rowStride: count * lowering.columns)
    }
    return UnsafePointer(cols)
  }

  /// The output gradients of `count` images side by side, [Cout, count·columns], in the
  /// lowered layout (zeros in junk columns): written into `wide`, or a single image itself
  /// when the layouts agree.
  func spread(
    _ gradOutput: UnsafePointer<Float>, count: Int, into wide: UnsafeMutablePointer<Float>
  ) -> UnsafePointer<Float> {
    if count == 1 && lowering.kind != .rowPadded { return gradOutput }
    for i in 0..<count {
      lowering.expand(
        gradOutput + i * outSize, rows: outChannels, wide + i * lowering.columns,
        rowStride: count * lowering.columns)
    }
    return UnsafePointer(wide)
  }
}
