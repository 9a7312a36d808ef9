/// + − × ÷ with NumPy broadcasting, differentiable in both operands.
extension Tensor {
  public func add(_ other: Tensor) throws -> Tensor {
    let out = try BroadcastKernel.binary(self, other, op: "add", +)
    let (sa, sb) = (shape, other.shape)
    return Autograd.record("add", output: out, inputs: [self, other]) { g in
      [BroadcastKernel.sum(g, to: sa), BroadcastKernel.sum(g, to: sb)]
    }
  }

  public func sub(_ other: Tensor) throws -> Tensor {
    let out = try BroadcastKernel.binary(self, other, op: "sub", -)
    let (sa, sb) = (shape, other.shape)
    return Autograd.record("sub", output: out, inputs: [self, other]) { g in
      [BroadcastKernel.sum(g, to: sa), BroadcastKernel.sum(try g.neg(), to: sb)]
    }
  }

  public func mul(_ other: Tensor) throws -> Tensor {
    let out = try BroadcastKernel.binary(self, other, op: "mul", *)
    return Autograd.record("mul", output: out, inputs: [self, other]) { [a = self.detach(), b = other.detach()] g in
      [BroadcastKernel.sum(try g.mul(b), to: a.shape), BroadcastKernel.sum(try g.mul(a), to: b.shape)]
    }
  }

  public func div(_ other: Tensor) throws -> Tensor {
    let out = try BroadcastKernel.binary(self, other, op: "div", /)
    return Autograd.record("div", output: out, inputs: [self, other]) { [a = self.detach(), b = other.detach()] g in
      // d(a/b)/da = 1/b, d(a/b)/db = −a/b²
      let ga = try g.div(b)
      let gb = try g.mul(a).div(b.mul(b)).neg()
      return [BroadcastKernel.sum(ga, to: a.shape), BroadcastKernel.sum(gb, to: b.shape)]
    }
  }

  public func neg() throws -> Tensor {
    let out = Tensor(zeros: shape)
    for i in 0..<count { out.data[i] = -data[i] }
    return Autograd.record("neg", output: out, inputs: [self]) { g in [try g.neg()] }
  }
}
