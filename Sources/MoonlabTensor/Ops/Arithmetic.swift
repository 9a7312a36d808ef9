/// + − × ÷ with NumPy broadcasting, differentiable in both operands. The gradient of a
/// broadcast operand is summed back to its shape; an operand that doesn't require grad
/// (a number from Lua, a constant) gets none computed.
extension Tensor {
  public func add(_ other: Tensor) throws -> Tensor {
    let out = try BroadcastKernel.binary(self, other, op: "add", Add())
    let (sa, sb, needA, needB) = (shape, other.shape, requiresGrad, other.requiresGrad)
    return Autograd.record("add", output: out, inputs: [self, other]) { g in
      [needA ? BroadcastKernel.sum(g, to: sa) : nil, needB ? BroadcastKernel.sum(g, to: sb) : nil]
    }
  }

  public func sub(_ other: Tensor) throws -> Tensor {
    let out = try BroadcastKernel.binary(self, other, op: "sub", Subtract())
    let (sa, sb, needA, needB) = (shape, other.shape, requiresGrad, other.requiresGrad)
    return Autograd.record("sub", output: out, inputs: [self, other]) { g in
      [
        needA ? BroadcastKernel.sum(g, to: sa) : nil,
        needB ? BroadcastKernel.sum(g.neg(), to: sb) : nil,
      ]
    }
  }

  public func mul(_ other: Tensor) throws -> Tensor {
    let out = try BroadcastKernel.binary(self, other, op: "mul", Multiply())
    let (needA, needB) = (requiresGrad, other.requiresGrad)
    return Autograd.record("mul", output: out, inputs: [self, other]) {
      [a = detach(), b = other.detach()] g in
      [
        needA ? BroadcastKernel.sum(try g.mul(b), to: a.shape) : nil,
        needB ? BroadcastKernel.sum(try g.mul(a), to: b.shape) : nil,
      ]
    }
  }

  public func div(_ other: Tensor) throws -> Tensor {
    let out = try BroadcastKernel.binary(self, other, op: "div", Divide())
    let (needA, needB) = (requiresGrad, other.requiresGrad)
    return Autograd.record("div", output: out, inputs: [self, other]) {
      [a = detach(), b = other.detach()] g in
      // d(a/b)/da = 1/b, d(a/b)/db = −a/b²
      let ga = try g.div(b)
      return [
        needA ? BroadcastKernel.sum(ga, to: a.shape) : nil,
        needB ? BroadcastKernel.sum(try ga.mul(a).div(b).neg(), to: b.shape) : nil,
      ]
    }
  }
}
