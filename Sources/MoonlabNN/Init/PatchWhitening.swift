import Foundation
import MoonlabTensor

extension Init {
  /// airbench's whitening initialisation of a Conv2d (docs/nn.md, "Initializers"): the
  /// weight's filters become the eigenvectors of the covariance of the images' k×k patches,
  /// each scaled by 1/√(λ + eps), and their negatives. For cin channels the conv needs
  /// d = cin·k·k … 2d output channels: filter j (j < d) is v_j / √(λ_j + eps) with the
  /// eigenvalues in descending order, filter d + j its negative. The covariance is PᵀP / n
  /// over every patch (stride 1, no padding) flattened in (c, kh, kw) order, not
  /// mean-centred, as airbench computes it. The bias is left alone.
  public static func patchWhitening(_ conv: Conv2d, images: Tensor, eps: Double = 5e-4) throws {
    let (cin, k) = (conv.inChannels, conv.kernelSize)
    let d = cin * k * k
    guard images.rank == 4 else {
      throw TensorError(
        "patch_whitening: expected images [N, \(cin), H, W], got \(describeShape(images.shape))")
    }
    guard images.shape[1] == cin else {
      throw TensorError(
        "patch_whitening: the images have \(images.shape[1]) channels, the conv takes \(cin)")
    }
    guard conv.outChannels == 2 * d else {
      throw TensorError(
        "patch_whitening: the conv has \(conv.outChannels) output channels; whitening \(cin) channels with \(k)x\(k) patches needs 2·\(cin)·\(k)·\(k) = \(2 * d)"
      )
    }
    guard images.shape[0] > 0, images.shape[2] >= k, images.shape[3] >= k else {
      throw TensorError(
        "patch_whitening: the images \(describeShape(images.shape)) hold no \(k)x\(k) patch")
    }
    guard eps >= 0, eps.isFinite else {
      throw TensorError("patch_whitening: eps \(eps) must be a finite number ≥ 0")
    }
    try conv.weight.checkWritable(op: "patch_whitening")
    let geometry = ConvGeometry(
      channels: cin, height: images.shape[2], width: images.shape[3], kernel: k, stride: 1,
      padding: 0)
    let patches = images.shape[0] * geometry.outPlane
    let covariance = patchGram(images, geometry).map { $0 / Double(patches) }
    guard covariance.allSatisfy(\.isFinite) else {
      throw TensorError("patch_whitening: the images hold non-finite values")
    }
    let (values, vectors) = SymmetricEigen.decompose(covariance, n: d)
    let w = conv.weight.data
    for j in 0..<d {
      // Descending: the j-th largest eigenvalue is the (d − 1 − j)-th ascending one.
      let e = d - 1 - j
      guard values[e] + eps > 0 else {
        throw TensorError(
          "patch_whitening: eigenvalue \(values[e]) + eps \(eps) is not positive; raise eps")
      }
      let scale = 1 / (values[e] + eps).squareRoot()
      for i in 0..<d {
        let f = Float(vectors[i * d + e] * scale)
        w[j * d + i] = f
        w[(d + j) * d + i] = -f
      }
    }
    conv.weight.markWritten()
  }

  /// Σ over all patches of p pᵀ ([d, d], Double): each image is lowered with im2col into
  /// [d, positions] and multiplied by its own transpose in one GEMM; chunks of images run
  /// on the run's threads with partial sums added in chunk order (same result for the
  /// same thread count).
  static func patchGram(_ images: Tensor, _ g: ConvGeometry) -> [Double] {
    let (n, d, positions) = (images.shape[0], g.patchSize, g.outPlane)
    let imageSize = g.channels * g.inPlane
    let x = images.data
    let chunks = batchChunks(n, workPerItem: d * d * positions)
    var partials = [Double](repeating: 0, count: chunks * d * d)
    partials.withUnsafeMutableBufferPointer { out in
      let out = out.baseAddress!
      forBatchChunks(n, workPerItem: d * d * positions) { chunk, items in
        let sum = out + chunk * d * d
        var columns = [Float](repeating: 0, count: d * positions)
        var gram = [Float](repeating: 0, count: d * d)
        columns.withUnsafeMutableBufferPointer { cols in
          let cols = cols.baseAddress!
          gram.withUnsafeMutableBufferPointer { gm in
            let gm = gm.baseAddress!
            for image in items {
              Im2col.im2col(g, image: x + image * imageSize, columns: cols, rowStride: positions)
              sgemm(
                transA: false, transB: true, m: d, n: d, k: positions, a: cols, lda: positions,
                b: cols, ldb: positions, c: gm, ldc: d)
              for i in 0..<(d * d) { sum[i] += Double(gm[i]) }
            }
          }
        }
      }
    }
    var total = [Double](repeating: 0, count: d * d)
    for c in 0..<chunks { for i in 0..<(d * d) { total[i] += partials[c * d * d + i] } }
    return total
  }
}
