extension Tensor {
  /// One-hot rows for 0-based class labels: labels of shape [N] (or any shape, read
  /// flat) → [N, classes] of zeros with a 1 at each label. Not differentiable (labels
  /// are data).
  public static func oneHot(_ labels: Tensor, classes: Int) throws -> Tensor {
    guard classes > 0 else { throw TensorError("one_hot: number of classes must be positive, got \(classes)") }
    try Shape.validate([labels.count, classes], op: "one_hot")
    let out = Tensor(zeros: [labels.count, classes])
    let src = labels.data, dst = out.data
    for i in 0..<labels.count {
      let v = src[i]
      guard let c = Int(exactly: v), c >= 0, c < classes else {
        throw TensorError("one_hot: label \(v + 1) at position \(i + 1) is not a class in 1…\(classes)")
      }
      dst[i * classes + c] = 1
    }
    return out
  }
}
