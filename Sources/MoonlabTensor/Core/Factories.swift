/// Checked constructors: every factory validates its shape, so a script asking for
/// `tensor.zeros{-1}` gets an error naming the op instead of a crash.
extension Tensor {
  public static func zeros(_ shape: [Int]) throws -> Tensor {
    try Shape.validate(shape, op: "zeros")
    return Tensor(zeros: shape)
  }

  public static func ones(_ shape: [Int]) throws -> Tensor {
    try Shape.validate(shape, op: "ones")
    return Tensor(filled: shape, 1)
  }

  public static func full(_ shape: [Int], _ value: Float) throws -> Tensor {
    try Shape.validate(shape, op: "full")
    return Tensor(filled: shape, value)
  }

  /// Uniform in [0, 1), drawn in row-major order from `generator` (default: the run's
  /// default stream).
  public static func rand(_ shape: [Int], generator: Generator? = nil) throws -> Tensor {
    let generator = generator ?? RunContext.current.random
    return try sampled(shape, op: "rand") { generator.uniform() }
  }

  /// Standard normal, drawn in row-major order from `generator` (default: the run's
  /// default stream).
  public static func randn(_ shape: [Int], generator: Generator? = nil) throws -> Tensor {
    let generator = generator ?? RunContext.current.random
    return try sampled(shape, op: "randn") { generator.normal() }
  }

  private static func sampled(_ shape: [Int], op: String, _ draw: () -> Float) throws -> Tensor {
    try Shape.validate(shape, op: op)
    let out = Tensor(uninitialized: shape)
    let p = out.data
    for i in 0..<out.count { p[i] = draw() }
    return out
  }

  /// 0, 1, …, n−1 (0-based, like the rest of the Swift API).
  public static func arange(_ n: Int) throws -> Tensor {
    try Shape.validate([n], op: "arange")
    let out = Tensor(uninitialized: [n])
    let p = out.data
    for i in 0..<n { p[i] = Float(i) }
    return out
  }

  /// The n × n identity matrix.
  public static func eye(_ n: Int) throws -> Tensor {
    try Shape.validate([n, n], op: "eye")
    let out = Tensor(zeros: [n, n])
    for i in 0..<n { out.data[i * n + i] = 1 }
    return out
  }

  /// A tensor of a known-valid shape whose every element the caller will write (layer
  /// outputs and gradients): skipping the zero fill saves a pass over memory per step.
  public convenience init(uninitialized shape: [Int]) {
    self.init(shape: shape, storage: TensorStorage(count: Shape.count(shape), zeroed: false))
  }

  /// A tensor of a known-valid shape holding `value` everywhere.
  convenience init(filled shape: [Int], _ value: Float) {
    self.init(uninitialized: shape)
    data.update(repeating: value, count: count)
  }
}
