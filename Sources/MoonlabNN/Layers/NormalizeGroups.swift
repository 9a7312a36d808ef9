import MoonlabTensor

/// The normalisation shared by LayerNorm and GroupNorm (docs/nn.md, "Embedding,
/// normalisation, activations"): each of `groups` contiguous runs of n values is shifted
/// to mean 0 and scaled by 1/√(var + eps), biased variance. The affine part (per position
/// or per channel) is the layer's own.
enum NormalizeGroups {
  static func chunk(_ n: Int) -> Int { max(1, (1 << 14) / max(n, 1)) }

  /// x̂ per group and 1/σ per group (saved for backward).
  static func forward(
    _ x: UnsafePointer<Float>, xhat: UnsafeMutablePointer<Float>,
    invStd: UnsafeMutablePointer<Float>, groups: Int, n: Int, eps: Float
  ) {
    Parallel.forChunks(groups, minChunk: chunk(n)) { r in
      for gi in r {
        let (row, norm) = (x + gi * n, xhat + gi * n)
        // Mean, then squared deviations from it (stable when |mean| ≫ std), in Double.
        var sum: Double = 0
        for j in 0..<n { sum += Double(row[j]) }
        let mean = Float(sum / Double(n))
        var sq: Double = 0
        for j in 0..<n { sq += Double((row[j] - mean) * (row[j] - mean)) }
        let s = 1 / (Float(sq / Double(n)) + eps).squareRoot()
        invStd[gi] = s
        for j in 0..<n { norm[j] = (row[j] - mean) * s }
      }
    }
  }

  /// dx = (1/σ)(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) per group, where ĝ = ∂L/∂x̂ is in `dx` on entry.
  static func backward(
    _ dx: UnsafeMutablePointer<Float>, xhat: UnsafePointer<Float>, invStd: UnsafePointer<Float>,
    groups: Int, n: Int
  ) {
    Parallel.forChunks(groups, minChunk: chunk(n)) { r in
      for gi in r {
        let (d, h) = (dx + gi * n, xhat + gi * n)
        var sumG: Float = 0
        var sumGH: Float = 0
        for j in 0..<n {
          sumG += d[j]
          sumGH += d[j] * h[j]
        }
        let (meanG, meanGH) = (sumG / Float(n), sumGH / Float(n))
        for j in 0..<n { d[j] = invStd[gi] * (d[j] - meanG - h[j] * meanGH) }
      }
    }
  }
}
