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
    var h = x
    for (i, child) in children.enumerated() {
      do {
        h = try child.module.forward(h)
      } catch {
        throw TensorError("in module \(i + 1) (\(child.module.typeName)) of Sequential: \(error)")
      }
    }
    return h
  }
}

/// y = block(x) + shortcut(x), the shortcut being the identity unless given (He et al.
/// 2016). Children are named "block" and "shortcut".
public final class Residual: Module {
  public let block: Module
  public let shortcut: Module?

  public init(_ block: Module, shortcut: Module? = nil) {
    self.block = block
    self.shortcut = shortcut
    super.init()
    module("block", block)
    if let shortcut { module("shortcut", shortcut) }
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    let main: Tensor
    let skip: Tensor
    do { main = try block.forward(x) } catch {
      throw TensorError("in block (\(block.typeName)) of Residual: \(error)")
    }
    if let shortcut {
      do { skip = try shortcut.forward(x) } catch {
        throw TensorError("in shortcut (\(shortcut.typeName)) of Residual: \(error)")
      }
    } else {
      skip = x
    }
    guard main.shape == skip.shape else {
      throw TensorError(
        "Residual: block output \(describeShape(main.shape)) and shortcut output \(describeShape(skip.shape)) differ"
      )
    }
    return try main.add(skip)
  }
}
