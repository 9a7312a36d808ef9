extension Tensor {
  /// Reverse-mode differentiation from this tensor. Without `gradient` the tensor must
  /// hold one element (the loss); leaf gradients accumulate into `grad`. Each node is
  /// released right after it ran, which frees the activations it saved (PyTorch's
  /// semantics); `retainGraph` keeps the graph for another backward.
  public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false) throws {
    guard requiresGrad else {
      throw TensorError("backward: tensor of shape \(describeShape(shape)) does not require grad")
    }
    let seed: Tensor
    if let gradient {
      guard gradient.shape == shape else {
        throw TensorError(
          "backward: gradient shape \(describeShape(gradient.shape)) doesn't match tensor shape \(describeShape(shape))"
        )
      }
      seed = gradient
    } else {
      guard count == 1 else {
        throw TensorError(
          "backward: grad can be implicitly created only for a one-element tensor, got shape \(describeShape(shape))"
        )
      }
      seed = Tensor(zeros: shape)
      seed.data[0] = 1
    }
    try Autograd.noGrad { try propagate(seed, retainGraph: retainGraph) }
  }

  private func propagate(_ seed: Tensor, retainGraph: Bool) throws {
    guard let root = node else { return try accumulateGrad(seed) }
    // Popped from the end (outputs first), so a released node's saved tensors are freed
    // as soon as it ran.
    var order = try root.topologicalOrder()
    var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): seed]
    // Leaves in the order their first gradient arrived, and their summed gradients.
    var leaves: [Tensor] = []
    var leafGrads: [ObjectIdentifier: Tensor] = [:]
    while let node = order.popLast() {
      guard let g = grads.removeValue(forKey: ObjectIdentifier(node)) else { continue }
      try node.checkVersions()
      let inputGrads = try node.backward(g)
      let edges = node.edges
      if !retainGraph { node.release() }
      for (edge, ig) in zip(edges, inputGrads) {
        guard let ig else { continue }
        // A custom op (nn.Function from Lua) may hand back any shape; summing a wrong one
        // would read past the end of a buffer.
        guard ig.shape == edge.shape else {
          throw TensorError(
            "backward: \(node.name) returned a gradient of shape \(describeShape(ig.shape)) for an input of shape \(describeShape(edge.shape))"
          )
        }
        if let next = edge.node {
          let key = ObjectIdentifier(next)
          grads[key] = try grads[key].map { try accumulate($0, ig) } ?? ig
        } else if let leaf = edge.leaf, leaf.requiresGrad {
          let key = ObjectIdentifier(leaf)
          if let existing = leafGrads[key] {
            leafGrads[key] = try accumulate(existing, ig)
          } else {
            leaves.append(leaf)
            leafGrads[key] = ig
          }
        }
      }
    }
    for leaf in leaves {
      guard var g = leafGrads.removeValue(forKey: ObjectIdentifier(leaf)) else { continue }
      // Asked before the call, whose argument would be one more reference.
      let owned = g.isContiguous && Tensor.isPrivate(&g)
      try leaf.accumulateGrad(g, owned: owned)
    }
  }

  /// Stores `g` as (or adds it to) this leaf's gradient. Gradient tensors may share
  /// storage with forward values or other gradients (identity backward), so a stored
  /// gradient is a private copy — unless `owned`: nothing else can reach `g` or its
  /// storage, as for a layer's fresh weight gradient, and copying it would only cost a
  /// pass over memory (an MLP's whole weights per step at batch 1).
  private func accumulateGrad(_ g: Tensor, owned: Bool = false) throws {
    if let existing = grad, existing.shape != g.shape {
      throw TensorError(
        "backward: the stored grad of shape \(describeShape(existing.shape)) doesn't match the tensor's shape \(describeShape(g.shape))"
      )
    }
    grad = try grad.map { try accumulate($0, g) } ?? (owned ? g : g.contiguousCopy())
  }

  /// Whether `t` is the only reference to its tensor and its tensor the only one to its
  /// storage (weak references, such as a node's version record, don't count).
  static func isPrivate(_ t: inout Tensor) -> Bool {
    isKnownUniquelyReferenced(&t) && isKnownUniquelyReferenced(&t.storage)
  }

  func contiguousCopy() -> Tensor {
    let out = Tensor(uninitialized: shape)
    out.data.update(from: data, count: count)
    return out
  }
}

extension Node {
  /// Nodes reachable from self, inputs before outputs (iterative DFS, since an unrolled
  /// RNN can be deeper than the stack). A node freed by an earlier backward fails the
  /// walk, before any gradient is computed or accumulated.
  fileprivate func topologicalOrder() throws -> [Node] {
    var order: [Node] = []
    var visited: Set<ObjectIdentifier> = [ObjectIdentifier(self)]
    var stack: [(Node, Int)] = [(self, 0)]
    while let (node, next) = stack.popLast() {
      if node.isReleased { throw TensorError(Node.freedGraphMessage) }
      if next < node.edges.count {
        stack.append((node, next + 1))
        if let child = node.edges[next].node, visited.insert(ObjectIdentifier(child)).inserted {
          stack.append((child, 0))
        }
      } else {
        order.append(node)
      }
    }
    return order
  }
}

/// a + b into a new tensor (same shapes), on the thread pool like any elementwise add: a
/// ResNet block's input gets its gradient from both the block and the shortcut, millions
/// of values per step.
private func accumulate(_ a: Tensor, _ b: Tensor) throws -> Tensor {
  try BroadcastKernel.binary(a, b, op: "backward", Add())
}
