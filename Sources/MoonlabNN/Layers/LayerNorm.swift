import MoonlabTensor

/// Layer normalisation (Ba et al. 2016) over the last dimensions, `normalizedShape`:
/// each group of n = ∏ normalizedShape values is normalised with its own mean and biased
/// variance, then y = x̂·γ + β elementwise (`elementwiseAffine`; γ, β of that shape). Same
/// in train and eval mode.
public final class LayerNorm: GroupNormalization {
  public let normalizedShape: [Int]

  public init(_ normalizedShape: [Int], eps: Float = 1e-5, elementwiseAffine: Bool = true) throws {
    guard !normalizedShape.isEmpty, normalizedShape.allSatisfy({ $0 > 0 }) else {
      throw TensorError(
        "LayerNorm: normalized shape must be one or more positive sizes, got \(describeShape(normalizedShape))"
      )
    }
    self.normalizedShape = normalizedShape
    try super.init(
      eps: eps, affine: elementwiseAffine, parameterShape: normalizedShape, op: "LayerNorm")
  }

  public override var extraDescription: String {
    describeShape(normalizedShape) + affineDescription
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    let k = normalizedShape.count
    guard x.rank >= k, Array(x.shape.suffix(k)) == normalizedShape else {
      throw TensorError(
        "LayerNorm: expected input [*, \(normalizedShape.map(String.init).joined(separator: ", "))], got \(describeShape(x.shape))"
      )
    }
    let n = normalizedShape.reduce(1, *)
    return normalize(x, groups: x.count / n, n: n, stride: 1)
  }
}
