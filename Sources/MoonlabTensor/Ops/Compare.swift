/// Elementwise comparisons with broadcasting, as 0/1 float masks. Like PyTorch's bool
/// results they carry no gradient: the output never joins the tape.
extension Tensor {
  public func eq(_ other: Tensor) throws -> Tensor {
    struct Equal: BinaryKernel {
      @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a == b ? 1 : 0 }
    }
    return try BroadcastKernel.binary(self, other, op: "eq", Equal())
  }

  public func ne(_ other: Tensor) throws -> Tensor {
    struct NotEqual: BinaryKernel {
      @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a != b ? 1 : 0 }
    }
    return try BroadcastKernel.binary(self, other, op: "ne", NotEqual())
  }

  public func lt(_ other: Tensor) throws -> Tensor {
    struct Less: BinaryKernel {
      @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a < b ? 1 : 0 }
    }
    return try BroadcastKernel.binary(self, other, op: "lt", Less())
  }

  public func le(_ other: Tensor) throws -> Tensor {
    struct LessOrEqual: BinaryKernel {
      @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a <= b ? 1 : 0 }
    }
    return try BroadcastKernel.binary(self, other, op: "le", LessOrEqual())
  }

  public func gt(_ other: Tensor) throws -> Tensor {
    struct Greater: BinaryKernel {
      @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a > b ? 1 : 0 }
    }
    return try BroadcastKernel.binary(self, other, op: "gt", Greater())
  }

  public func ge(_ other: Tensor) throws -> Tensor {
    struct GreaterOrEqual: BinaryKernel {
      @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a >= b ? 1 : 0 }
    }
    return try BroadcastKernel.binary(self, other, op: "ge", GreaterOrEqual())
  }

  /// 1 if any element is nonzero (NaN counts as nonzero, as in PyTorch), else 0.
  public func any() -> Tensor {
    for i in 0..<count where data[i] != 0 { return Tensor(scalar: 1) }
    return Tensor(scalar: 0)
  }

  /// 1 if every element is nonzero (true for an empty tensor), else 0.
  public func all() -> Tensor {
    for i in 0..<count where data[i] == 0 { return Tensor(scalar: 0) }
    return Tensor(scalar: 1)
  }

  /// Along `dim`: whether any element of each slice is nonzero, as a 0/1 mask.
  public func any(dim: Int, keepDim: Bool = false) throws -> Tensor {
    try detach().ne(Tensor(scalar: 0)).sum(dim: dim, keepDim: keepDim).gt(Tensor(scalar: 0))
  }

  /// Along `dim`: whether every element of each slice is nonzero, as a 0/1 mask.
  public func all(dim: Int, keepDim: Bool = false) throws -> Tensor {
    try detach().eq(Tensor(scalar: 0)).sum(dim: dim, keepDim: keepDim).eq(Tensor(scalar: 0))
  }
}
