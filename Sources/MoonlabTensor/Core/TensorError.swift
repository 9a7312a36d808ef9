/// Every user-reachable failure in the numeric core. The message names the op and what
/// was wrong, e.g. "matmul: shapes [64,400] and [120,84] don't match (400 ≠ 120)".
public struct TensorError: Error, CustomStringConvertible, Equatable {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// "[64,400]" — how shapes appear in messages.
public func describeShape(_ shape: [Int]) -> String {
  "[" + shape.map(String.init).joined(separator: ",") + "]"
}
