import Foundation

/// A seeded xoshiro256** generator. One run has one seed; each consumer (init, shuffle,
/// augmentation, dropout) takes its own derived stream, so adding a transform never
/// shifts the initial weights (docs/architecture.md, "Determinism").
public final class Generator {
  private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

  /// The stream named `stream` of run seed `seed`. Names are hashed with FNV-1a, which,
  /// unlike Swift's Hasher, is the same in every process.
  public init(seed: UInt64, stream: String = "") {
    var x = seed ^ Generator.fnv1a(stream)
    func splitmix() -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    s0 = splitmix()
    s1 = splitmix()
    s2 = splitmix()
    s3 = splitmix()
  }

  public static func fnv1a(_ s: String) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in s.utf8 {
      h ^= UInt64(b)
      h = h &* 0x100_0000_01b3
    }
    return h
  }

  /// The four words of the generator's position, for a checkpoint (docs/lab.md,
  /// "Resuming a run"); `restore` puts a generator back there.
  public var state: [UInt64] { [s0, s1, s2, s3] }

  /// Continues from a position `state` gave, in place: consumers holding this generator
  /// see the restored stream. xoshiro's all-zero state is refused (it only yields zeros).
  public func restore(_ state: [UInt64]) throws {
    guard state.count == 4, state.contains(where: { $0 != 0 }) else {
      throw TensorError(
        "random stream state must be 4 words, not all zero, got \(state.count) word(s)")
    }
    (s0, s1, s2, s3) = (state[0], state[1], state[2], state[3])
  }

  @inline(__always)
  public func next() -> UInt64 {
    let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = s3 << 45 | s3 >> 19
    return result
  }

  /// Uniform in [0, 1) with 24 random bits.
  @inline(__always)
  public func uniform() -> Float { Float(next() >> 40) * 0x1p-24 }

  /// Uniform integer in 0..<n without modulo bias (Lemire's method).
  public func below(_ n: Int) -> Int {
    if n <= 1 { return 0 }
    let bound = UInt64(n)
    var m = next().multipliedFullWidth(by: bound)
    if m.low < bound {
      let threshold = (0 &- bound) % bound
      while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
    }
    return Int(m.high)
  }

  /// Standard normal (Box–Muller on doubles, for accuracy in the tails).
  public func normal() -> Float {
    let u1 = (Double(next() >> 11) + 1) * 0x1p-53  // (0, 1]
    let u2 = Double(next() >> 11) * 0x1p-53
    return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
  }

  /// Fisher–Yates permutation of 0..<n.
  public func permutation(_ n: Int) -> [Int] {
    var p = Array(0..<n)
    if n > 1 {
      for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, below(i + 1)) }
    }
    return p
  }
}

@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
