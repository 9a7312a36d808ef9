import MoonlabTensor

/// Base of every optimizer. It owns the parameter list, each parameter's state buffers
/// (momentum, Adam's moments) and step count, and the loop over parameters; a subclass
/// supplies only the per-element update rule (tinygrad's layout).
///
///     let opt = try SGD(model.parameters(), lr: 0.1, momentum: 0.9)
///     opt.zeroGrad(); try loss.backward(); try opt.step()
open class Optimizer {
  public let parameters: [Tensor]
  /// Learning rate of the next `step()`; schedules set it, users may too. (With parameter
  /// groups: the first group's; setting it sets every group's.)
  public var lr: Double
  /// Each parameter group's lr — one group unless this is ParamGroups. Schedules scale
  /// each from its own base.
  open var groupLRs: [Double] {
    get { [lr] }
    set { lr = newValue[0] }
  }
  /// The group lrs the first schedule found (PyTorch's `initial_lr`): later schedules on
  /// the same optimizer (SequentialLR's) start from them too, not from a lr already scaled.
  public var initialLRs: [Double]?
  /// Buffers per parameter, each the parameter's size, zero at the first step.
  let buffersPerParameter: Int
  var storages: [[TensorStorage]]
  /// The same buffers' pointers, kept so a step doesn't build arrays.
  var state: [[UnsafeMutablePointer<Float>]]
  /// Steps taken by each parameter (PyTorch counts per parameter: a parameter without a
  /// gradient is skipped and its Adam bias correction doesn't advance).
  var steps: [Int]

  /// The name in messages ("SGD").
  open var typeName: String { String(describing: type(of: self)) }

  public init(_ parameters: [Tensor], lr: Double, buffersPerParameter: Int, op: String) throws {
    guard !parameters.isEmpty else { throw TensorError("\(op): the parameter list is empty") }
    var seen = Set<ObjectIdentifier>()
    for (i, p) in parameters.enumerated() where !seen.insert(ObjectIdentifier(p)).inserted {
      throw TensorError("\(op): parameter \(i + 1) appears twice in the parameter list")
    }
    for (i, p) in parameters.enumerated() { try p.checkWritable(op: "\(op): parameter \(i + 1)") }
    try Optimizer.check(lr: lr, op: op)
    self.parameters = parameters
    self.lr = lr
    self.buffersPerParameter = buffersPerParameter
    storages = Array(repeating: [], count: parameters.count)
    state = Array(repeating: [], count: parameters.count)
    steps = Array(repeating: 0, count: parameters.count)
  }

  public static func check(lr: Double, op: @autoclosure () -> String) throws {
    guard lr >= 0, lr.isFinite else {
      throw TensorError("\(op()): invalid learning rate \(lr) (must be ≥ 0)")
    }
  }

  /// Clears every parameter's gradient (set to nil, PyTorch's default `set_to_none`).
  public func zeroGrad() {
    for p in parameters { p.zeroGrad() }
  }

  /// Updates every parameter that has a gradient, in place (same storage, so modules
  /// and checkpoints keep pointing at the live values).
  public func step() throws {
    try Optimizer.check(lr: lr, op: "\(typeName).step")
    for (i, p) in parameters.enumerated() {
      guard let g = p.grad else { continue }
      guard g.count == p.count else {
        throw TensorError(
          "\(typeName).step: gradient of parameter \(i + 1) has shape \(describeShape(g.shape)), the parameter \(describeShape(p.shape))"
        )
      }
      if storages[i].isEmpty && buffersPerParameter > 0 {
        storages[i] = (0..<buffersPerParameter).map { _ in TensorStorage(count: p.count) }
        state[i] = storages[i].map(\.pointer)
      }
      steps[i] += 1
      update(p.data, grad: g.data, state: state[i], count: p.count, step: steps[i])
      p.markWritten()
    }
  }

  /// Applies one step to `count` elements. `state` holds `buffersPerParameter` buffers;
  /// `step` counts from 1.
  open func update(
    _ param: UnsafeMutablePointer<Float>, grad: UnsafeMutablePointer<Float>,
    state: [UnsafeMutablePointer<Float>],
    count: Int, step: Int
  ) {}
}
