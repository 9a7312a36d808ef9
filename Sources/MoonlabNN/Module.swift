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

  /// The class's name, found once: losses name their tape nodes with it at every step,
  /// and `String(describing:)` goes through reflection.
  private var className = ""

  public init() { className = String(describing: type(of: self)) }

  /// The module's name in summaries and error messages ("Conv2d").
  open var typeName: String { className }

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

  /// All parameters with dotted names, depth first in registration order. A tensor
  /// reached twice (a module or parameter shared between two places) is listed once,
  /// under its first name, as in PyTorch's `named_parameters`, so an optimizer updates
  /// it once (docs/nn.md, "Containers, sharing and freezing").
  public func namedParameters(prefix: String = "") -> [(name: String, tensor: Tensor)] {
    withoutRepeats(allSlots(prefix: prefix, \.parameterSlots))
  }

  public func namedBuffers(prefix: String = "") -> [(name: String, tensor: Tensor)] {
    withoutRepeats(allSlots(prefix: prefix, \.bufferSlots))
  }

  private func allSlots(
    prefix: String, _ slots: KeyPath<Module, [(name: String, tensor: Tensor)]>
  ) -> [(name: String, tensor: Tensor)] {
    self[keyPath: slots].map { (prefix + $0.name, $0.tensor) }
      + children.flatMap { $0.module.allSlots(prefix: prefix + $0.name + ".", slots) }
  }

  private func withoutRepeats(_ named: [(name: String, tensor: Tensor)]) -> [(
    name: String, tensor: Tensor
  )] {
    var seen: Set<ObjectIdentifier> = []
    return named.filter { seen.insert(ObjectIdentifier($0.tensor)).inserted }
  }

  public func parameters() -> [Tensor] { namedParameters().map(\.tensor) }

  public var numParameters: Int { parameters().reduce(0) { $0 + $1.count } }

  /// Every module in the tree, self first.
  public func modules() -> [Module] { [self] + children.flatMap { $0.module.modules() } }

  public func train(_ on: Bool = true) {
    for m in modules() { m.training = on }
  }

  public func eval() { train(false) }

  /// Stops (or restarts) training of every parameter in the tree: a frozen parameter
  /// doesn't require grad, so backward leaves its `grad` alone and layers skip its
  /// weight gradient.
  public func freeze(_ frozen: Bool = true) {
    for p in parameters() { p.requiresGrad = !frozen }
  }

  public func unfreeze() { freeze(false) }

  public func zeroGrad() {
    for p in parameters() { p.zeroGrad() }
  }
}
