/// One recorded op on the tape: its inputs and a closure mapping the gradient of its
/// output to the gradients of its inputs (nil where an input needs none). A layer's whole
/// forward/backward is one node with a fused kernel, so graphs stay short (design.md §2).
public final class Node {
  public let name: String
  public let inputs: [Tensor]
  /// The input gradients for an output gradient (benchmarks time a layer's backward
  /// with it; `Tensor.backward()` is the way to differentiate).
  public let backward: (Tensor) throws -> [Tensor?]

  init(name: String, inputs: [Tensor], backward: @escaping (Tensor) throws -> [Tensor?]) {
    self.name = name
    self.inputs = inputs
    self.backward = backward
  }
}

public enum Autograd {
  /// Grad mode; off inside `noGrad`. Scripts drive tensors from one thread (the Lua
  /// state's), so a plain static is enough.
  public static private(set) var isEnabled = true

  public static func noGrad<T>(_ body: () throws -> T) rethrows -> T {
    let saved = isEnabled
    isEnabled = false
    defer { isEnabled = saved }
    return try body()
  }

  /// Attaches a node to `output` when grad mode is on and any input requires grad.
  /// `backward` receives the output's gradient and returns one gradient per input,
  /// each of that input's shape (or nil).
  @discardableResult
  public static func record(
    _ name: String, output: Tensor, inputs: [Tensor],
    backward: @escaping (Tensor) throws -> [Tensor?]
  ) -> Tensor {
    if isEnabled, inputs.contains(where: { $0.requiresGrad }) {
      output.node = Node(name: name, inputs: inputs, backward: backward)
    }
    return output
  }
}
