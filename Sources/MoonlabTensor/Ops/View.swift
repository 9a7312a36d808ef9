/// Shape changes. `reshape` shares storage (tensors are contiguous, so any reshape is a
/// view); `transposed` copies, keeping every tensor contiguous row-major.
extension Tensor {
  /// The same elements under `newShape`; one size may be -1 (inferred).
  public func reshape(_ newShape: [Int]) throws -> Tensor {
    var target = newShape
    let holes = target.indices.filter { target[$0] == -1 }
    guard holes.count <= 1 else {
      throw TensorError("reshape: only one size may be -1, got \(describeShape(newShape))")
    }
    if let hole = holes.first {
      target[hole] = 1
      try Shape.validate(target, op: "reshape")
      let known = Shape.count(target)
      guard known > 0, count % known == 0 else {
        throw TensorError(
          "reshape: can't reshape \(describeShape(shape)) (\(count) elements) into \(describeShape(newShape))"
        )
      }
      target[hole] = count / known
    }
    try Shape.validate(target, op: "reshape")
    guard Shape.count(target) == count else {
      throw TensorError(
        "reshape: can't reshape \(describeShape(shape)) (\(count) elements) into \(describeShape(newShape))"
      )
    }
    let out = Tensor(shape: target, storage: storage)
    return Autograd.record("reshape", output: out, inputs: [self]) { [shape] g in
      [try g.reshape(shape)]
    }
  }

  /// The transpose of a 2-D tensor (a copy).
  public func transposed() throws -> Tensor {
    guard rank == 2 else {
      throw TensorError("t: expected a 2-D tensor, got shape \(describeShape(shape))")
    }
    let out = Tensor(uninitialized: [shape[1], shape[0]])
    Tensor.transpose(data, into: out.data, rows: shape[0], cols: shape[1])
    return Autograd.record("t", output: out, inputs: [self]) { g in [try g.transposed()] }
  }

  /// out[j, i] = x[i, j], in 32 × 32 tiles so both sides stay in cache.
  static func transpose(
    _ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, rows m: Int, cols n: Int
  ) {
    if m == 0 || n == 0 { return }
    let tile = 32
    for i0 in stride(from: 0, to: m, by: tile) {
      for j0 in stride(from: 0, to: n, by: tile) {
        for i in i0..<min(i0 + tile, m) {
          for j in j0..<min(j0 + tile, n) { out[j * m + i] = x[i * n + j] }
        }
      }
    }
  }
}
