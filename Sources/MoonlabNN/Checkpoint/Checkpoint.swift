import MoonlabTensor

/// Saving and loading a module's state as safetensors, named like PyTorch's `state_dict`
/// of the equivalent `nn.Sequential` (`0.weight`, `1.running_mean`), so either side can
/// read the other's files (docs/nn.md).
///
///     try Checkpoint.save(model, to: "run/checkpoints/epoch-3.safetensors")
///     try Checkpoint.load(into: model, from: "run/checkpoints/epoch-3.safetensors")
public enum Checkpoint {
  /// Writes every parameter and buffer under its dotted name, atomically.
  public static func save(_ module: Module, to path: String) throws {
    try Safetensors.write(state(of: module), to: path)
  }

  /// Copies the file's tensors into `module`'s existing tensors (same storage, so an
  /// optimizer holding them stays valid). The file must hold exactly the module's
  /// parameters and buffers with matching shapes; nothing is changed unless it does.
  public static func load(into module: Module, from path: String) throws {
    try load(into: module, tensors: try Safetensors.read(path: path).tensors, source: path)
  }

  /// The same from tensors already read (a resume checkpoint's model part); `source`
  /// names where they came from in errors.
  public static func load(
    into module: Module, tensors: [(name: String, tensor: Tensor)], source path: String
  ) throws {
    var byName: [String: Tensor] = [:]
    for (name, t) in tensors { byName[name] = t }

    let expected = state(of: module)
    let expectedNames = Set(expected.map(\.name))
    let missing = expected.map(\.name).filter { byName[$0] == nil }
    let unexpected = tensors.map(\.name).filter { !expectedNames.contains($0) }
    guard missing.isEmpty, unexpected.isEmpty else {
      var why: [String] = []
      if !missing.isEmpty { why.append("missing tensor(s) \(quoted(missing))") }
      if !unexpected.isEmpty { why.append("unexpected tensor(s) \(quoted(unexpected))") }
      throw TensorError(
        "checkpoint: \(path) doesn't match the \(module.typeName): " + why.joined(separator: "; "))
    }
    for (name, dst) in expected where byName[name]?.shape != dst.shape {
      let got = byName[name].map { describeShape($0.shape) } ?? "nothing"
      throw TensorError(
        "checkpoint: \(path): tensor '\(name)' has shape \(got), the \(module.typeName) expects \(describeShape(dst.shape))"
      )
    }
    for (name, dst) in expected {
      if let src = byName[name] {
        dst.data.update(from: src.data, count: dst.count)
        dst.markWritten()
      }
    }
  }

  /// Every tensor in a checkpoint, in file order, as Float tensors.
  public static func read(path: String) throws -> [(name: String, tensor: Tensor)] {
    try Safetensors.read(path: path).tensors
  }

  /// Parameters then buffers, by dotted name.
  public static func state(of module: Module) -> [(name: String, tensor: Tensor)] {
    module.namedParameters() + module.namedBuffers()
  }

  private static func quoted(_ names: [String]) -> String {
    names.map { "'\($0)'" }.joined(separator: ", ")
  }
}
