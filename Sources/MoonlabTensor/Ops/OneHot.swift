extension Tensor {
  /// One-hot rows for a tensor of 0-based class indices: shape [..., classes], 1 at each
  /// index, 0 elsewhere. Not differentiable (indices are data, not parameters).
  public func oneHot(classes: Int) throws -> Tensor {
    guard classes > 0 else {
      throw TensorError("one_hot: number of classes must be positive, got \(classes)")
    }
    try Shape.validate(shape + [classes], op: "one_hot")
    let out = Tensor(zeros: shape + [classes])
    for i in 0..<count {
      let v = data[i]
      guard v >= 0, v < Float(classes), v.rounded() == v else {
        throw TensorError(
          "one_hot: class index \(v) at position \(i) is not an integer in 0..<\(classes)")
      }
      out.data[i * classes + Int(v)] = 1
    }
    return out
  }
}
