import Foundation

/// PyTorch-style printing: nested brackets, one shared column width, and, past 1000
/// elements, only the first and last three entries of each dimension around "...".
/// The shape and the element type always follow the values, since they are what one
/// usually wants to see (every tensor is float32 today; the type is shown so printed
/// output stays unambiguous when others arrive).
extension Tensor: CustomStringConvertible {
  public var description: String {
    let prefix = "tensor("
    var suffix = ", shape=\(describeShape(shape)), dtype=float32"
    if let node {
      suffix += ", grad_fn=<\(node.name)>"
    } else if requiresGrad {
      suffix += ", requires_grad=true"
    }
    if count == 0 { return prefix + "[]" + suffix + ")" }
    let summarize = count > 1000
    let format = TensorDescription.format(for: UnsafeBufferPointer(start: data, count: count))
    let strides = Shape.strides(shape)
    var cells: [String] = []
    var width = 0
    func cell(_ v: Float) -> String {
      let s = format(v)
      width = Swift.max(width, s.count)
      return s
    }
    // Builds the nested text with placeholders first (cells padded at the end, when the
    // width is known).
    func nest(_ d: Int, _ offset: Int) -> String {
      if d == rank {
        cells.append(cell(data[offset]))
        return "\u{0}"
      }
      let n = shape[d]
      let positions: [Int?] =
        summarize && n > 6 ? [0, 1, 2, nil, n - 3, n - 2, n - 1] : Array(0..<n)
      let parts = positions.map { p in p.map { nest(d + 1, offset + $0 * strides[d]) } ?? "..." }
      let separator =
        d == rank - 1
        ? ", "
        : "," + String(repeating: "\n", count: rank - d - 1)
          + String(repeating: " ", count: prefix.count + d + 1)
      return "[" + parts.joined(separator: separator) + "]"
    }
    let skeleton = nest(0, 0)
    var text = ""
    var next = cells.makeIterator()
    for ch in skeleton {
      if ch == "\u{0}", let c = next.next() {
        text += String(repeating: " ", count: width - c.count) + c
      } else {
        text.append(ch)
      }
    }
    return prefix + text + suffix + ")"
  }
}

enum TensorDescription {
  /// Integers print as "3.", ordinary magnitudes with 4 decimals, very large or small
  /// ones in scientific notation — PyTorch's choice for a whole tensor at once.
  static func format(for values: UnsafeBufferPointer<Float>) -> (Float) -> String {
    var allIntegers = true
    var maxAbs: Float = 0
    var minAbs = Float.infinity
    for v in values where v.isFinite {
      if v.rounded() != v { allIntegers = false }
      maxAbs = max(maxAbs, abs(v))
      if v != 0 { minAbs = min(minAbs, abs(v)) }
    }
    func special(_ v: Float) -> String? {
      v.isNaN ? "nan" : v.isInfinite ? (v > 0 ? "inf" : "-inf") : nil
    }
    if allIntegers && maxAbs < 1e8 {
      return { v in special(v) ?? String(format: "%.0f.", Double(v)) }
    }
    if maxAbs >= 1e8 || minAbs < 1e-4 {
      return { v in special(v) ?? String(format: "%.4e", Double(v)) }
    }
    return { v in special(v) ?? String(format: "%.4f", Double(v)) }
  }
}
