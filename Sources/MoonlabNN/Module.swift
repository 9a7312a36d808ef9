import MoonlabTensor

/// Base class of every layer, container and loss-free block.
///
/// Parameters, buffers and children are registered explicitly (`param`, `buffer`,
/// `module`) in the order they are created; the dotted state-dict names (`0.weight`,
/// `3.running_mean`) are derived from that registry, never kept by hand — the same rule
/// for built-in and Lua-defined modules.
open class Module {
  public private(set) var parameterSlots: [(name: String, tensor: Tensor)] = []
  public private(set) var bufferSlots: [(name: String, tensor: Tensor)] = []
  public private(set) var children: [(name: String, module: Module)] = []
  /// Train mode (batch statistics, dropout on) or eval mode.
  public private(set) var training = true

  public init() {}

  /// The module's name in summaries and error messages ("Conv2d").
  open var typeName: String { String(describing: type(of: self)) }

  /// Extra text for `tostring` and `nn.summary` ("3 -> 6, kernel 5").
  open var extraDescription: String { "" }

  /// Forward pass. Subclasses override; the base class has no computation of its own.
  open func forward(_ input: Tensor) throws -> Tensor {
    throw TensorError("\(typeName): forward is not defined")
  }

  public func callAsFunction(_ input: Tensor) throws -> Tensor { try forward(input) }

  // MARK: Registration

  /// Registers a trainable tensor; marks it as requiring grad.
  @discardableResult
  public func param(_ name: String, _ tensor: Tensor) -> Tensor {
    tensor.requiresGrad = true
    replaceOrAppend(&parameterSlots, name, tensor)
    return tensor
  }

  /// Registers a non-trainable state tensor (running statistics).
  @discardableResult
  public func buffer(_ name: String, _ tensor: Tensor) -> Tensor {
    replaceOrAppend(&bufferSlots, name, tensor)
    return tensor
  }

  /// Throws when adding `child` under this module would make a cycle (`s:add(s)`, or two
  /// containers added into each other): every walk (parameters, printing, forward) would
  /// then run forever. Script-facing adds check this first; the tree stays acyclic.
  public func checkCanAdopt(_ child: Module, _ fn: String) throws {
    if child === self || child.modules().contains(where: { $0 === self }) {
      throw TensorError(
        "\(fn): adding \(child.typeName) to \(typeName) would make a cycle (it already contains \(child === self ? "itself" : "this \(typeName)"))"
      )
    }
  }

  /// Registers a child module.
  @discardableResult
  public func module<M: Module>(_ name: String, _ child: M) -> M {
    if let i = children.firstIndex(where: { $0.name == name }) {
      children[i].module = child
    } else {
      children.append((name, child))
    }
    return child
  }

  private func replaceOrAppend(
    _ slots: inout [(name: String, tensor: Tensor)], _ name: String, _ t: Tensor
  ) {
    if let i = slots.firstIndex(where: { $0.name == name }) {
      slots[i].tensor = t
    } else {
      slots.append((name, t))
    }
  }

  // MARK: Traversal

  /// All parameters with dotted names, depth first in registration order.
  public func namedParameters(prefix: String = "") -> [(name: String, tensor: Tensor)] {
    parameterSlots.map { (prefix + $0.name, $0.tensor) }
      + children.flatMap { $0.module.namedParameters(prefix: prefix + $0.name + ".") }
  }

  public func namedBuffers(prefix: String = "") -> [(name: String, tensor: Tensor)] {
    bufferSlots.map { (prefix + $0.name, $0.tensor) }
      + children.flatMap { $0.module.namedBuffers(prefix: prefix + $0.name + ".") }
  }

  public func parameters() -> [Tensor] { namedParameters().map(\.tensor) }

  public var numParameters: Int { parameters().reduce(0) { $0 + $1.count } }

  /// Every module in the tree, self first.
  public func modules() -> [Module] { [self] + children.flatMap { $0.module.modules() } }

  public func train(_ on: Bool = true) {
    for m in modules() { m.training = on }
  }

  public func eval() { train(false) }

  public func zeroGrad() {
    for p in parameters() { p.zeroGrad() }
  }
}
