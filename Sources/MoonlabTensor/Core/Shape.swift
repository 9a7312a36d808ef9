import Foundation

/// Shape arithmetic shared by all ops. Tensors are contiguous and row-major.
public enum Shape {
  public static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

  /// Row-major strides in elements.
  public static func strides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for d in stride(from: shape.count - 1, through: 0, by: -1) {
      strides[d] = s
      s *= shape[d]
    }
    return strides
  }

  /// Checks a shape a user asked for (or an op's output shape): every size ≥ 0, and
  /// the whole fits in physical memory. An allocation beyond it would not fail politely:
  /// posix_memalign refusing it, or the kernel killing the process later, ends the run.
  public static func validate(_ shape: [Int], op: String) throws {
    var total = 1
    for d in shape {
      guard d >= 0 else {
        throw TensorError("\(op): negative size in shape \(describeShape(shape))")
      }
      let (p, overflow) = total.multipliedReportingOverflow(by: d)
      guard !overflow, p <= maxElements else {
        throw TensorError(
          "\(op): shape \(describeShape(shape)) is too large (more than \(maxElements) elements, this machine's memory)"
        )
      }
      total = p
    }
    let limit = RunContext.current.memoryLimitBytes
    if limit > 0, TensorMemory.liveBytes + total * MemoryLayout<Float>.stride > limit {
      throw TensorError(
        "\(op): the tensor memory limit of \(limit >> 20) MB is reached (\(TensorMemory.liveBytes >> 20) MB live, \(describeShape(shape)) needs \((total * MemoryLayout<Float>.stride) >> 20) MB more; \(limit == TensorMemory.defaultLimitBytes ? "3/4 of this machine's memory; --memory-limit sets another" : "--memory-limit"))"
      )
    }
  }

  /// The most floats one tensor may hold: the machine's physical memory.
  static let maxElements = min(
    1 << 34, Int(clamping: ProcessInfo.processInfo.physicalMemory) / MemoryLayout<Float>.stride)

  /// NumPy broadcasting: align trailing dimensions; sizes must match or be 1.
  public static func broadcast(_ a: [Int], _ b: [Int], op: String) throws -> [Int] {
    let n = max(a.count, b.count)
    var out = [Int](repeating: 1, count: n)
    for i in 0..<n {
      let da = i < n - a.count ? 1 : a[i - (n - a.count)]
      let db = i < n - b.count ? 1 : b[i - (n - b.count)]
      guard da == db || da == 1 || db == 1 else {
        throw TensorError(
          "\(op): shapes \(describeShape(a)) and \(describeShape(b)) can't be broadcast (dimension \(i + 1): \(da) vs \(db))"
        )
      }
      out[i] = da == 1 ? db : da
    }
    return out
  }

  /// Strides of `shape` read as if broadcast to `target` (0 on broadcast dimensions).
  public static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let own = strides(shape)
    let offset = target.count - shape.count
    return (0..<target.count).map { i in
      i < offset || shape[i - offset] == 1 ? 0 : own[i - offset]
    }
  }

  /// A 0-based dimension from a possibly negative one (-1 = last).
  public static func normalize(dim: Int, rank: Int, op: String) throws -> Int {
    let d = dim < 0 ? dim + rank : dim
    guard d >= 0, d < rank else {
      throw TensorError("\(op): dimension \(dim) out of range for a \(rank)-d tensor")
    }
    return d
  }
}
