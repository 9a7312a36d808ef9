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
    // Popped from the end (outputs first), so a released node's inputs are freed as soon
    // as no later node needs them.
    var order = try topologicalOrder()
    var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
    while let tensor = order.popLast() {
      guard let g = grads.removeValue(forKey: ObjectIdentifier(tensor)) else { continue }
      guard let node = tensor.node else {
        if let existing = tensor.grad, existing.shape != g.shape {
          throw TensorError(
            "backward: the stored grad of shape \(describeShape(existing.shape)) doesn't match the tensor's shape \(describeShape(g.shape))"
          )
        }
        tensor.accumulateGrad(g)
        continue
      }
      let inputGrads = try node.backward(g)
      let inputs = node.inputs
      if !retainGraph { node.release() }
      for (input, ig) in zip(inputs, inputGrads) {
        guard let ig, input.requiresGrad else { continue }
        // A custom op (nn.Function from Lua) may hand back any shape; summing a wrong one
        // would read past the end of a buffer.
        guard ig.shape == input.shape else {
          throw TensorError(
            "backward: \(node.name) returned a gradient of shape \(describeShape(ig.shape)) for an input of shape \(describeShape(input.shape))"
          )
        }
        let key = ObjectIdentifier(input)
        if let existing = grads[key] {
          grads[key] = accumulate(existing, ig)
        } else {
          grads[key] = ig
        }
      }
    }
  }

  /// Tensors reachable from self through nodes, inputs before outputs (iterative DFS,
  /// since an unrolled RNN can be deeper than the stack). A node freed by an earlier
  /// backward fails the walk, before any gradient is computed or accumulated.
  private func topologicalOrder() throws -> [Tensor] {
    var order: [Tensor] = []
    var visited = Set<ObjectIdentifier>()
    var stack: [(Tensor, Int)] = [(self, 0)]
    visited.insert(ObjectIdentifier(self))
    while let (tensor, next) = stack.popLast() {
      if tensor.node?.isReleased == true { throw TensorError(Node.freedGraphMessage) }
      let inputs = tensor.node?.inputs ?? []
      if next < inputs.count {
        stack.append((tensor, next + 1))
        let child = inputs[next]
        if child.requiresGrad, visited.insert(ObjectIdentifier(child)).inserted {
          stack.append((child, 0))
        }
      } else {
        order.append(tensor)
      }
    }
    return order
  }

  private func accumulateGrad(_ g: Tensor) {
    grad = grad.map { accumulate($0, g) } ?? g.contiguousCopy()
  }

  /// Gradient tensors may share storage with forward values (identity backward), so a
  /// stored gradient is always a private copy.
  func contiguousCopy() -> Tensor {
    let out = Tensor(uninitialized: shape)
    out.data.update(from: data, count: count)
    return out
  }
}

/// a + b elementwise into a new tensor (same shapes; used by gradient accumulation).
private func accumulate(_ a: Tensor, _ b: Tensor) -> Tensor {
  let out = Tensor(uninitialized: a.shape)
  let n = a.count
  let pa = a.data
  let pb = b.data
  let po = out.data
  for i in 0..<n { po[i] = pa[i] + pb[i] }
  return out
}
