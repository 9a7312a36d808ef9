extension Tensor {
  /// Reverse-mode differentiation from this tensor. Without `gradient` the tensor must
  /// hold one element (the loss); leaf gradients accumulate into `grad`.
  public func backward(_ gradient: Tensor? = nil) throws {
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
    try Autograd.noGrad { try propagate(seed) }
  }

  private func propagate(_ seed: Tensor) throws {
    let order = topologicalOrder()
    var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
    for tensor in order.reversed() {
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
      for (input, ig) in zip(node.inputs, inputGrads) {
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
  /// since an unrolled RNN can be deeper than the stack).
  private func topologicalOrder() -> [Tensor] {
    var order: [Tensor] = []
    var visited = Set<ObjectIdentifier>()
    var stack: [(Tensor, Int)] = [(self, 0)]
    visited.insert(ObjectIdentifier(self))
    while let (tensor, next) = stack.popLast() {
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
