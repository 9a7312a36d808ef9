/// One recorded op on the tape: where its inputs' gradients go and a closure mapping the
/// gradient of its output to the gradients of its inputs (nil where an input needs none).
/// A layer's whole forward/backward is one node with a fused kernel, so graphs stay short
/// (docs/architecture.md, "Tensors and autograd").
///
/// The node keeps what backward needs and no more (docs/architecture.md, "Memory"): the
/// node that made each input, or the input itself if it is a leaf that requires grad, so
/// an intermediate tensor lives only as long as some closure saved it.
/// `Tensor.backward()` releases each node once it ran (docs/tensor.md): the closure, the
/// activations it saved and the edges go, so a training step's graph is freed by the
/// backward that consumed it. The node itself stays on its output, which still requires
/// grad, and a second backward through it fails with `freedGraphMessage`.
public final class Node {
  public let name: String
  private(set) var edges: [Edge]
  /// The input gradients for an output gradient (benchmarks time a layer's backward
  /// with it; `Tensor.backward()` is the way to differentiate). After the node was
  /// released it throws the freed-graph error.
  public private(set) var backward: (Tensor) throws -> [Tensor?]
  /// Whether a backward without `retainGraph` already freed this node.
  public private(set) var isReleased = false

  static let freedGraphMessage =
    "backward: trying to backward through the graph a second time (or directly access saved tensors after they have already been freed); the first backward frees them unless called with retain_graph = true (Swift: retainGraph: true)"

  /// The version each input's storage had when the op ran (weakly held: a storage no
  /// closure saved may go, and then nothing can read it).
  private var versions: [(storage: Weak, version: Int)]

  struct Weak {
    weak var storage: TensorStorage?
  }

  /// Where one input's gradient goes.
  struct Edge {
    let shape: [Int]
    /// The op that made the input (its gradient flows on through it).
    let node: Node?
    /// The input itself when it is a leaf that requires grad (its gradient accumulates
    /// into `grad`).
    let leaf: Tensor?
  }

  /// `tracksVersions: false` for a node whose backward saves none of its inputs.
  init(
    name: String, inputs: [Tensor], tracksVersions: Bool = true,
    backward: @escaping (Tensor) throws -> [Tensor?]
  ) {
    self.name = name
    edges = inputs.map { input in
      Edge(
        shape: input.shape, node: input.node, leaf: input.isLeaf && input.requiresGrad ? input : nil
      )
    }
    versions = tracksVersions ? inputs.map { (Weak(storage: $0.storage), $0.storage.version) } : []
    self.backward = backward
  }

  /// Throws when an input was changed in place after this op saw it: its saved copy
  /// would give a wrong gradient.
  func checkVersions() throws {
    for (i, v) in versions.enumerated() {
      guard let storage = v.storage.storage, storage.version != v.version else { continue }
      throw TensorError(
        "backward: input \(i + 1) of \(name) was modified in place after the forward pass (version \(v.version), now \(storage.version)), so its gradient would be wrong; change it after backward, or clone() it first"
      )
    }
  }

  /// Drops the closure (and the tensors it captured) and the edges.
  func release() {
    versions = []
    edges = []
    backward = { _ in throw TensorError(Node.freedGraphMessage) }
    isReleased = true
  }
}

public enum Autograd {
  /// Grad mode of the current run; off inside `noGrad`.
  public static var isEnabled: Bool { RunContext.current.gradEnabled }

  public static func noGrad<T>(_ body: () throws -> T) rethrows -> T {
    let context = RunContext.current
    let saved = context.gradEnabled
    context.gradEnabled = false
    defer { context.gradEnabled = saved }
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
