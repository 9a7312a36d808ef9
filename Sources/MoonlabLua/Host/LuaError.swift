/// An error that comes out of Lua code (syntax or runtime), message and traceback
/// included, or an argument error raised by a Swift-bound function.
public struct LuaError: Error, CustomStringConvertible {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// "bad argument #2 to 'Conv2d' (number expected, got string)", as Lua words it.
func badArgument(_ index: Int32, _ function: String, _ reason: String) -> LuaError {
  LuaError("bad argument #\(index) to '\(function)' (\(reason))")
}
