/// The Lua libraries every script sees, in install order. Each library declares its
/// functions and classes once, in its own file.
enum Libraries {
  static let all: [(LuaHost) throws -> Void] = [
    TensorLibrary.install,
    NNLibrary.install,
    OptimLibrary.install,
    DataLibrary.install,
  ]
}
