import MoonlabTensor

/// A failure reading or using data: the message names the file or op and what was wrong,
/// e.g. "cifar10: data_batch_3.bin: 30729999 bytes is not a whole number of 3073-byte records".
public struct DataError: Error, CustomStringConvertible, Equatable {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// Samples and their targets, held compactly in Swift memory (docs/data.md: big data never
/// lives in Lua tables). Images are UInt8 (NCHW, scaled to [0,1] when batched); other data
/// (synthetic sets, `data.tensors`) is Float. Targets are 0-based class indices for the
/// readers; `subset` and `split` are views that share the storage through an index list.
public final class Dataset {
  /// The sample values: bytes become `Float(b) / 255` in a batch; floats are copied.
  public enum Storage {
    case bytes([UInt8])
    case floats([Float])
  }

  public let name: String
  /// Shape of one sample: [C,H,W] for images, [D] for points.
  public let sampleShape: [Int]
  /// Shape of one target: [] for a class index.
  public let targetShape: [Int]
  public let classes: [String]?
  let storage: Storage
  let targets: [Float]
  /// Positions in the storage this view covers, or nil for all of it.
  let indices: [Int]?
  let sampleSize: Int
  let targetSize: Int
  let storedCount: Int

  public init(
    name: String, sampleShape: [Int], storage: Storage, targets: [Float], targetShape: [Int] = [],
    classes: [String]? = nil
  ) throws {
    let sampleSize = Shape.count(sampleShape)
    let targetSize = Shape.count(targetShape)
    let values: Int
    switch storage {
    case .bytes(let b): values = b.count
    case .floats(let f): values = f.count
    }
    guard sampleSize > 0, values % sampleSize == 0 else {
      throw DataError(
        "\(name): \(values) values don't fill samples of shape \(describeShape(sampleShape))")
    }
    let n = values / sampleSize
    guard targets.count == n * targetSize else {
      throw DataError("\(name): \(n) samples but \(targets.count / max(targetSize, 1)) targets")
    }
    self.name = name
    self.sampleShape = sampleShape
    self.targetShape = targetShape
    self.classes = classes
    self.storage = storage
    self.targets = targets
    self.indices = nil
    self.sampleSize = sampleSize
    self.targetSize = targetSize
    self.storedCount = n
  }

  private init(view base: Dataset, indices: [Int]) {
    name = base.name
    sampleShape = base.sampleShape
    targetShape = base.targetShape
    classes = base.classes
    storage = base.storage
    targets = base.targets
    sampleSize = base.sampleSize
    targetSize = base.targetSize
    storedCount = base.storedCount
    self.indices = indices
  }

  public var count: Int { indices?.count ?? storedCount }

  /// Storage position of sample `i` of this view.
  @inline(__always) func position(_ i: Int) -> Int { indices?[i] ?? i }

  /// Samples `range` (0-based, half-open) as a view.
  public func subset(_ range: Range<Int>) throws -> Dataset {
    guard range.lowerBound >= 0, range.upperBound <= count else {
      throw DataError(
        "subset: range \(range.lowerBound)..<\(range.upperBound) is outside 0..<\(count)")
    }
    return Dataset(view: self, indices: range.map(position))
  }

  /// Disjoint views holding the given fractions of a seeded shuffle. Fractions summing
  /// to 1 cover every sample (the last part takes the rounding remainder).
  public func split(_ fractions: [Double], seed: UInt64) throws -> [Dataset] {
    let total = fractions.reduce(0, +)
    guard !fractions.isEmpty, fractions.allSatisfy({ $0 >= 0 }), total <= 1 + 1e-9 else {
      throw DataError("split: fractions must be ≥ 0 and sum to at most 1, got \(fractions)")
    }
    let order = Generator(seed: seed, stream: "split").permutation(count)
    var parts: [Dataset] = []
    var start = 0
    for (k, f) in fractions.enumerated() {
      let last = k == fractions.count - 1 && abs(total - 1) < 1e-9
      let end = last ? count : min(count, start + Int((f * Double(count)).rounded(.down)))
      parts.append(Dataset(view: self, indices: order[start..<end].map(position)))
      start = end
    }
    return parts
  }

  /// Sample `i` (0-based) as a tensor of `sampleShape` and its target of `targetShape`.
  public func get(_ i: Int) throws -> (x: Tensor, y: Tensor) {
    guard i >= 0, i < count else { throw DataError("get: index \(i) is outside 0..<\(count)") }
    let x = Tensor(zeros: sampleShape)
    let y = Tensor(zeros: targetShape)
    [i].withUnsafeBufferPointer { gather($0, x: x.data, y: y.data) }
    return (x, y)
  }

  /// Copies samples `items` (0-based positions in this view) into `x` (as floats, bytes
  /// scaled to [0,1]) and their targets into `y`. Runs on loader worker threads: it only
  /// reads immutable storage.
  public func gather(
    _ items: UnsafeBufferPointer<Int>, x: UnsafeMutablePointer<Float>,
    y: UnsafeMutablePointer<Float>
  ) {
    let d = sampleSize
    let t = targetSize
    switch storage {
    case .bytes(let bytes):
      bytes.withUnsafeBufferPointer { src in
        guard let base = src.baseAddress else { return }
        for (k, i) in items.enumerated() {
          let s = base + position(i) * d
          let o = x + k * d
          for j in 0..<d { o[j] = Float(s[j]) / 255 }
        }
      }
    case .floats(let floats):
      floats.withUnsafeBufferPointer { src in
        guard let base = src.baseAddress else { return }
        for (k, i) in items.enumerated() {
          (x + k * d).update(from: base + position(i) * d, count: d)
        }
      }
    }
    targets.withUnsafeBufferPointer { src in
      guard let base = src.baseAddress else { return }
      for (k, i) in items.enumerated() {
        (y + k * t).update(from: base + position(i) * t, count: t)
      }
    }
  }

  /// How many samples of each class (for datasets with class-index targets; other values
  /// are not counted).
  public func classCounts() -> [Int] {
    var counts = [Int](repeating: 0, count: classes?.count ?? 0)
    guard targetSize == 1 else { return counts }
    for i in 0..<count {
      guard let c = Int(exactly: targets[position(i)]), c >= 0, c < 1 << 20 else { continue }
      if c >= counts.count { counts += [Int](repeating: 0, count: c + 1 - counts.count) }
      counts[c] += 1
    }
    return counts
  }
}
