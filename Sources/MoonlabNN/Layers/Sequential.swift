import MoonlabTensor

/// Runs its children in order, each on the previous one's output. Children are named
/// "0", "1", … as in PyTorch's nn.Sequential, so state-dict names match (`0.weight`).
/// A child's error is rethrown with its place: "in module 3 (Conv2d) of Sequential: …"
/// (1-based, as Lua counts), like Torch7's containers.
public final class Sequential: Module {
  public init(_ layers: [Module] = []) {
    super.init()
    for m in layers { add(m) }
  }

  public var layers: [Module] { children.map(\.module) }

  @discardableResult
  public func add(_ m: Module) -> Sequential {
    module(String(children.count), m)
    return self
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    try forward(x, children: 0..<children.count)
  }

  /// Runs the children in `range`. A BatchNorm or a Residual followed by a ReLU runs as
  /// one fused node with it (docs/nn.md, "Fused BatchNorm"): same numbers, one pass fewer.
  func forward(_ x: Tensor, children range: Range<Int>) throws -> Tensor {
    var h = x
    var i = range.lowerBound
    while i < range.upperBound {
      let child = children[i].module
      let fusesNextReLU =
        (child is BatchNorm || child is Residual) && i + 1 < range.upperBound
        && children[i + 1].module is ReLU
      do {
        switch child {
        case let bn as BatchNorm where fusesNextReLU:
          h = try bn.forward(h, adding: nil, relu: true)
        case let r as Residual where fusesNextReLU: h = try r.forward(h, relu: true)
        default: h = try child.forward(h)
        }
      } catch {
        throw TensorError("in module \(i + 1) (\(child.typeName)) of Sequential: \(error)")
      }
      i += fusesNextReLU ? 2 : 1
    }
    return h
  }
}

/// y = block(x) + shortcut(x), the shortcut being the identity unless given (He et al.
/// 2016), then ReLU if `relu`. Children are named "block" and "shortcut".
///
/// When the block ends in a BatchNorm (or is one), that BatchNorm, the add and the ReLU
/// (this `relu`, or a ReLU right after this module in a Sequential) run as one fused node
/// (docs/nn.md, "Fused BatchNorm").
public final class Residual: Module {
  public let block: Module
  public let shortcut: Module?
  public let relu: Bool

  public init(_ block: Module, shortcut: Module? = nil, relu: Bool = false) {
    self.block = block
    self.shortcut = shortcut
    self.relu = relu
    super.init()
    module("block", block)
    if let shortcut { module("shortcut", shortcut) }
  }

  public override var extraDescription: String { relu ? "relu" : "" }

  public override func forward(_ x: Tensor) throws -> Tensor { try forward(x, relu: relu) }

  /// The forward pass, with a ReLU after the add if `relu` (or `self.relu`).
  func forward(_ x: Tensor, relu: Bool) throws -> Tensor {
    let relu = relu || self.relu
    guard let (body, last, lastPlace) = fusableTail else {
      let main = try inBlock("") { try block.forward(x) }
      let sum = try main.add(try shortcutOutput(x, matching: main.shape))
      return relu ? sum.relu() : sum
    }
    // The block's layers before its last BatchNorm, then the shortcut, then the fused
    // BatchNorm + add (+ ReLU): the modules that may draw random numbers run in the
    // unfused order.
    let h = try inBlock("") { try body(x) }
    try inBlock(lastPlace) { try last.check(h) }
    let skip = try shortcutOutput(x, matching: h.shape)
    return try inBlock(lastPlace) { try last.forward(h, adding: skip, relu: relu) }
  }

  /// The block split before its last module when that is a BatchNorm, and how errors
  /// name that module's place inside the block.
  private var fusableTail: (body: (Tensor) throws -> Tensor, last: BatchNorm, place: String)? {
    if let bn = block as? BatchNorm { return ({ $0 }, bn, "") }
    guard let seq = block as? Sequential, let bn = seq.children.last?.module as? BatchNorm else {
      return nil
    }
    let n = seq.children.count
    return (
      { try seq.forward($0, children: 0..<n - 1) }, bn,
      "in module \(n) (\(bn.typeName)) of Sequential: "
    )
  }

  private func inBlock<T>(_ place: String, _ body: () throws -> T) throws -> T {
    do { return try body() } catch {
      throw TensorError("in block (\(block.typeName)) of Residual: \(place)\(error)")
    }
  }

  /// The shortcut's output, checked against the block's output shape.
  private func shortcutOutput(_ x: Tensor, matching blockShape: [Int]) throws -> Tensor {
    var skip = x
    if let shortcut {
      do { skip = try shortcut.forward(x) } catch {
        throw TensorError("in shortcut (\(shortcut.typeName)) of Residual: \(error)")
      }
    }
    guard skip.shape == blockShape else {
      throw TensorError(
        "Residual: block output \(describeShape(blockShape)) and shortcut output \(describeShape(skip.shape)) differ"
      )
    }
    return skip
  }
}
