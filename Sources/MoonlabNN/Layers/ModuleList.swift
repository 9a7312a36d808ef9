import MoonlabTensor

/// An ordered list of modules, named "0", "1", … as in PyTorch's nn.ModuleList, so their
/// parameters are found, saved and trained; it has no forward of its own (a Lua-defined
/// module calls its entries).
public final class ModuleList: Module {
  public init(_ modules: [Module] = []) {
    super.init()
    for m in modules { append(m) }
  }

  public func append(_ m: Module) { module(String(children.count), m) }

  public override func forward(_ x: Tensor) throws -> Tensor {
    throw TensorError("ModuleList: a container has no forward; call its modules (list:get(i))")
  }
}

/// Modules by name, as PyTorch's nn.ModuleDict (state-dict names `name.weight`); no forward.
public final class ModuleDict: Module {
  /// Registered in the given order; names may not be empty or contain a dot (it would be
  /// read as a path in the state dict).
  public init(_ modules: [(name: String, module: Module)]) throws {
    super.init()
    for (name, m) in modules {
      guard !name.isEmpty, !name.contains(".") else {
        throw TensorError("ModuleDict: name '\(name)' must be non-empty and contain no '.'")
      }
      module(name, m)
    }
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    throw TensorError("ModuleDict: a container has no forward; call its modules (dict.name)")
  }
}
