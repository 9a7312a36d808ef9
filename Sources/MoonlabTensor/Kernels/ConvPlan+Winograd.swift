/// `ConvPlan`'s steps for stride-1 padded 3×3 layers through `Winograd` or `Winograd4`:
/// per group of images, the transforms and 16 or 36 GEMMs, one per tile position.
extension ConvPlan {
  var tiles: Int {
    winograd4 ? Winograd4.tilesPerImage(geometry) : Winograd.tilesPerImage(geometry)
  }
  var positions: Int { winograd4 ? Winograd4.positions : Winograd.positions }
  var rowScratch: Int {
    winograd4 ? Winograd4.rowScratch(geometry) : Winograd.rowScratch(geometry)
  }
  /// Row stride of the transformed matrices: a full group's tiles and the vector slack.
  var tileStride: Int { group * tiles + Winograd.lanes }

  func winogradForward(
    input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
    output: UnsafeMutablePointer<Float>, scratch: Workspace
  ) throws {
    let (g, cin, cout, ld) = (geometry, geometry.channels, outChannels, tileStride)
    // Shared: U. Per chunk: V, M, row scratch.
    let (uCount, vCount, mCount) = (
      positions * cout * cin, positions * cin * ld, positions * cout * ld
    )
    let perChunk = vCount + mCount + rowScratch
    let u = try scratch.pointer(uCount + chunks * perChunk, op: "Conv2d")
    transformWeights(
      weight, outChannels: cout, inChannels: cin, transposed: false, into: u)
    forBatchChunks(batch, workPerItem: work) { chunk, images in
      let v = u + uCount + chunk * perChunk
      let (m, rows) = (v + vCount, v + vCount + mCount)
      for first in stride(from: images.lowerBound, to: images.upperBound, by: group) {
        let count = min(group, images.upperBound - first)
        transformInput(
          g, channels: cin, images: input + first * inSize, count: count, into: v,
          rowStride: ld, rows: rows)
        multiply(u, rows: cout, inner: cin, v, columns: count * tiles, into: m)
        transformOutput(
          g, channels: cout, m, rowStride: ld, count: count, bias: bias,
          into: output + first * outSize, rows: rows)
      }
    }
  }

  func winogradBackward(
    gradOutput: UnsafePointer<Float>, input: UnsafePointer<Float>?, weight: UnsafePointer<Float>,
    gradInput: UnsafeMutablePointer<Float>?, gradWeight: Tensor?, gradBias: Tensor?,
    scratch: Workspace
  ) throws {
    let (g, cin, cout, ld) = (geometry, geometry.channels, outChannels, tileStride)
    // Shared: the input gradient's U. Per chunk: V (then the input gradient's M), Z (then
    // the transformed output gradient), row scratch, dU, then partial dW and db.
    let uCount = gradInput == nil ? 0 : positions * cout * cin
    let (vCount, zCount, rowCount) = (positions * cin * ld, positions * cout * ld, rowScratch)
    let duCount = positions * cout * cin
    let partialsOffset = vCount + zCount + rowCount + duCount
    let weightCount = input == nil ? 0 : cout * cin * 9
    let partialCount = weightCount + (gradBias == nil ? 0 : cout)
    let perChunk = partialsOffset + partialCount
    let u = try scratch.pointer(uCount + chunks * perChunk, op: "Conv2d")
    if gradInput != nil {
      transformWeights(
        weight, outChannels: cout, inChannels: cin, transposed: true, into: u)
    }
    let base = u + uCount
    forBatchChunks(batch, workPerItem: work) { chunk, images in
      let v = base + chunk * perChunk
      let z = v + vCount
      let rows = z + zCount
      let du = rows + rowCount
      let dw = v + partialsOffset
      let db = dw + weightCount
      du.update(repeating: 0, count: duCount)
      dw.update(repeating: 0, count: partialCount)
      for first in stride(from: images.lowerBound, to: images.upperBound, by: group) {
        let count = min(group, images.upperBound - first)
        let gy = gradOutput + first * outSize
        if let input {
          transformInput(
            g, channels: cin, images: input + first * inSize, count: count, into: v,
            rowStride: ld, rows: rows)
          transformGradient(
            g, channels: cout, gy, count: count, into: z, rowStride: ld, rows: rows)
          // dU_ξ[Cout, Cin] += Z_ξ[Cout, tiles] · V_ξ[Cin, tiles]ᵀ
          for xi in 0..<positions {
            sgemm(
              transA: false, transB: true, m: cout, n: cin, k: count * tiles,
              a: z + xi * cout * ld, lda: ld, b: v + xi * cin * ld, ldb: ld, beta: 1,
              c: du + xi * cout * cin, ldc: cin)
          }
        }
        if gradBias != nil { addBiasGradient(gy, count: count, into: db) }
        guard let gradInput else { continue }
        // The input gradient: the same convolution of g with the flipped weight.
        transformInput(
          g, channels: cout, images: gy, count: count, into: z, rowStride: ld, rows: rows)
        multiply(u, rows: cin, inner: cout, z, columns: count * tiles, into: v)
        transformOutput(
          g, channels: cin, v, rowStride: ld, count: count, bias: nil,
          into: gradInput + first * inSize, rows: rows)
      }
      if input != nil {
        addWeightGradient(du, outChannels: cout, inChannels: cin, into: dw)
      }
    }
    addChunkPartials(
      base + partialsOffset, chunks: chunks, stride: perChunk,
      into: [gradWeight, gradBias].compactMap { $0 })
  }

  /// M_ξ[rows, columns] = U_ξ[rows, inner] · V_ξ[inner, columns] for the 16 or 36 positions
  /// (V and M with row stride `tileStride`).
  func multiply(
    _ u: UnsafePointer<Float>, rows: Int, inner: Int, _ v: UnsafePointer<Float>, columns: Int,
    into m: UnsafeMutablePointer<Float>
  ) {
    let ld = tileStride
    for xi in 0..<positions {
      sgemm(
        transA: false, transB: false, m: rows, n: columns, k: inner, a: u + xi * rows * inner,
        lda: inner, b: v + xi * inner * ld, ldb: ld, c: m + xi * rows * ld, ldc: ld)
    }
  }
}
