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
    try arange(start: 0, end: Double(n), step: 1)
  }

  /// start, start + step, … up to but excluding `end`, as PyTorch's arange: ⌈(end − start)
  /// / step⌉ values, each computed in Double from its index so steps don't accumulate
  /// rounding.
  public static func arange(start: Double, end: Double, step: Double) throws -> Tensor {
    guard step != 0, step.isFinite, start.isFinite, end.isFinite else {
      throw TensorError(
        "arange: start, end and step must be finite and step nonzero, got \(start), \(end), \(step)"
      )
    }
    guard (end - start) * step >= 0 else {
      throw TensorError(
        "arange: end \(end) can't be reached from start \(start) with step \(step)")
    }
    let n = Int(clamping: Int64(Swift.min(((end - start) / step).rounded(.up), 1e18)))
    try Shape.validate([n], op: "arange")
    let out = Tensor(uninitialized: [n])
    for i in 0..<n { out.data[i] = Float(start + Double(i) * step) }
    return out
  }

  /// `steps` evenly spaced values from `start` to `end`, both included. As in PyTorch, the
  /// first half counts up from start and the second half down from end, so both ends are
  /// exact.
  public static func linspace(_ start: Double, _ end: Double, steps: Int) throws -> Tensor {
    try Shape.validate([steps], op: "linspace")
    let out = Tensor(uninitialized: [steps])
    let step = steps > 1 ? (end - start) / Double(steps - 1) : 0
    for i in 0..<steps {
      out.data[i] = Float(
        i < steps / 2 ? start + Double(i) * step : end - Double(steps - 1 - i) * step)
    }
    return out
  }

  /// The n × m identity matrix (ones on the main diagonal; m = n by default).
  public static func eye(_ n: Int, _ m: Int? = nil) throws -> Tensor {
    let m = m ?? n
    try Shape.validate([n, m], op: "eye")
    let out = Tensor(zeros: [n, m])
    for i in 0..<Swift.min(n, m) { out.data[i * m + i] = 1 }
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
