import MoonlabTensor

/// A lookup table: indices of any shape (floats holding whole numbers 0..<num, 0-based
/// in Swift; Lua's are 1-based and converted at the binding) → their rows of `weight`
/// [num, dim], output shape indices.shape + [dim]. Weight starts N(0, 1) (PyTorch's
/// default); the `paddingIndex` row starts at zero and never gets a gradient.
public final class Embedding: Module {
  public let count, dim: Int
  public let paddingIndex: Int?
  public let weight: Tensor

  public init(_ count: Int, _ dim: Int, paddingIndex: Int? = nil) throws {
    guard count > 0, dim > 0 else {
      throw TensorError("Embedding: sizes must be positive, got \(count) x \(dim)")
    }
    if let p = paddingIndex, !(0..<count).contains(p) {
      throw TensorError("Embedding: padding index \(p) is not in 0..<\(count)")
    }
    try Shape.validate([count, dim], op: "Embedding")  // before allocating it
    self.count = count
    self.dim = dim
    self.paddingIndex = paddingIndex
    weight = Tensor(zeros: [count, dim])
    super.init()
    Init.normal(weight)
    if let p = paddingIndex { (weight.data + p * dim).update(repeating: 0, count: dim) }
    param("weight", weight)
  }

  public override var extraDescription: String {
    "\(count) x \(dim)" + (paddingIndex.map { ", padding \($0)" } ?? "")
  }

  /// The row of each index, checked first so a bad index is an error, not a wild read.
  func rows(_ indices: Tensor) throws -> [Int] {
    try (0..<indices.count).map { i in
      let v = indices.data[i]
      guard let k = Int(exactly: v), k >= 0, k < count else {
        throw TensorError(
          "Embedding: index \(v) at position \(i) is not in 0..<\(count) (the table has \(count) rows)"
        )
      }
      return k
    }
  }

  public override func forward(_ indices: Tensor) throws -> Tensor {
    let rows = try rows(indices)
    let (d, pw) = (dim, weight.data)
    let y = Tensor(uninitialized: indices.shape + [d])
    for (i, k) in rows.enumerated() { (y.data + i * d).update(from: pw + k * d, count: d) }
    return Autograd.record("Embedding", output: y, inputs: [indices, weight]) {
      [shape = weight.shape, padding = paddingIndex] g in
      // dW[k] = Σ over positions holding k of g[position]; the padding row stays 0.
      let gw = Tensor(zeros: shape)
      let (pg, pgw) = (g.data, gw.data)
      for (i, k) in rows.enumerated() where k != padding {
        let (src, dst) = (pg + i * d, pgw + k * d)
        for j in 0..<d { dst[j] += src[j] }
      }
      return [nil, gw]
    }
  }
}
