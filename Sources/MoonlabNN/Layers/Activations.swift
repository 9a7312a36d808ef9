import MoonlabTensor

/// Elementwise activations as modules, so they sit in a Sequential. Each is one tape node
/// of the tensor op of the same name.
public final class ReLU: Module {
  public override func forward(_ x: Tensor) throws -> Tensor { x.relu() }
}

public final class Sigmoid: Module {
  public override func forward(_ x: Tensor) throws -> Tensor { x.sigmoid() }
}

public final class Tanh: Module {
  public override func forward(_ x: Tensor) throws -> Tensor { x.tanh() }
}

/// Softmax along `dim` (0-based in Swift; Lua's `nn.Softmax(d)` is 1-based).
public final class Softmax: Module {
  public let dim: Int
  public init(dim: Int) {
    self.dim = dim
  }
  public override var extraDescription: String { "dim \(dim)" }
  public override func forward(_ x: Tensor) throws -> Tensor { try x.softmax(dim: dim) }
}

/// log(softmax(x)) along `dim` in one pass (0-based in Swift; Lua's `nn.LogSoftmax(d)`
/// is 1-based), the stable input for NLL-style losses.
public final class LogSoftmax: Module {
  public let dim: Int
  public init(dim: Int) {
    self.dim = dim
  }
  public override var extraDescription: String { "dim \(dim)" }
  public override func forward(_ x: Tensor) throws -> Tensor { try x.logSoftmax(dim: dim) }
}

/// Passes its input through (a placeholder, e.g. Residual's default shortcut).
public final class Identity: Module {
  public override func forward(_ x: Tensor) throws -> Tensor { x }
}

/// [N, d1, d2, …] → [N, d1·d2·…], sharing storage.
public final class Flatten: Module {
  public override func forward(_ x: Tensor) throws -> Tensor {
    guard x.rank >= 1 else {
      throw TensorError("Flatten: expected a tensor with a batch dimension, got a scalar")
    }
    let n = x.shape[0]
    return try x.reshape([n, n == 0 ? 0 : x.count / n])
  }
}
