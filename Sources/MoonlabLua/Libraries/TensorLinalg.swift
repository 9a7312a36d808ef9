import CLua
import MoonlabTensor

/// Linear algebra in the `tensor` library (docs/tensor.md, "Linear algebra"):
/// `tensor.eigh(A)`, also as `tensor.linalg.eigh(A)` under PyTorch's `torch.linalg` name.
enum TensorLinalg {
  static func functions() -> [String: LuaFunction] {
    [
      // eigh(A) → eigenvalues [n] ascending, eigenvectors [n, n] as columns.
      "eigh": { lua in
        let (values, vectors) = try lua.tensor(1, "eigh").eigh()
        lua.push(values)
        lua.push(vectors)
        return 2
      }
    ]
  }

  /// `tensor.linalg`: a table of its own inside the `tensor` library.
  static func install(_ host: LuaHost) {
    host.libraryTable("tensor")
    let lua = Lua(host.state)
    lua.newTable(hash: 1)
    for (name, f) in functions() {
      lua.push(function: "tensor.linalg.\(name)", f)
      lua.setField(-2, name)
    }
    lua.setField(-2, "linalg")
    lua.pop()
  }
}
