/// exp, tanh and sigmoid eight floats at a time. libm's expf/tanhf are scalar calls the
/// compiler can't vectorise, and they dominated activations and softmax (3–4× slower
/// than PyTorch's vectorised versions). These follow Cephes' expf and tanhf (range
/// reduction plus a minimax polynomial, ≈ 1–2 ulp on the whole float range, checked
/// against Double in VectorMathTests); NaN, ±inf, overflow and underflow behave like libm.
enum VectorMath {
  typealias V = SIMD8<Float>

  /// eˣ = 2ⁿ · eʳ with n = round(x / ln 2), |r| ≤ ln 2 / 2 (Cephes expf).
  @inline(__always)
  static func exp(_ x: V) -> V {
    // Beyond these bounds eˣ is inf or 0 in float32 anyway; clamping keeps n in range.
    let xc = x.clamped(lowerBound: V(repeating: -104), upperBound: V(repeating: 89))
    let nf = (xc * 1.442_695_040_888_963_4).rounded(.toNearestOrEven)
    // ln 2 split in two so n · ln 2 is subtracted without rounding error.
    let r = xc - nf * 0.693_359_375 + nf * 2.121_944_4e-4
    var p = V(repeating: 1.987_569_150_0e-4)
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    let y = p * (r * r) + r + 1
    // 2ⁿ as two factors 2^(n/2) · 2^(n − n/2), each a normal float even when eˣ is
    // subnormal or overflows to inf.
    let n = SIMD8<Int32>(nf, rounding: .towardZero)
    let n1 = n &>> 1
    let n2 = n &- n1
    let s1 = unsafeBitCast((n1 &+ 127) &<< 23, to: V.self)
    let s2 = unsafeBitCast((n2 &+ 127) &<< 23, to: V.self)
    return (y * s1 * s2).replacing(with: x, where: x .!= x)
  }

  /// Cephes tanhf: an odd polynomial below |x| = 0.625, 1 − 2 / (e²ˣ + 1) above it (where
  /// the subtraction loses nothing).
  @inline(__always)
  static func tanh(_ x: V) -> V {
    let negative = x .< 0
    let a = x.replacing(with: -x, where: negative)
    let big = 1 - 2 / (exp(a + a) + 1)
    let z = x * x
    var p = V(repeating: -5.704_988_727_45e-3)
    p = p * z + 2.063_908_879_54e-2
    p = p * z - 5.373_971_555_31e-2
    p = p * z + 1.333_144_220_36e-1
    p = p * z - 3.333_328_194_22e-1
    let small = p * z * x + x
    return small.replacing(with: big.replacing(with: -big, where: negative), where: a .>= 0.625)
  }

  /// σ(x) = 1 / (1 + e⁻ˣ) for x ≥ 0 and eˣ / (1 + eˣ) below, so e^|x| never overflows
  /// and tiny results for very negative x keep their precision.
  @inline(__always)
  static func sigmoid(_ x: V) -> V {
    let negative = x .< 0
    let e = exp(x.replacing(with: -x, where: .!negative))
    let s = 1 / (1 + e)
    return s.replacing(with: e * s, where: negative)
  }

  /// y[i] = f(x[i]) for i in `range`, eight at a time; the tail goes through one padded
  /// vector.
  @inline(__always)
  static func map(
    _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ range: Range<Int>, _ f: (V) -> V
  ) {
    let rx = UnsafeRawPointer(x)
    let ry = UnsafeMutableRawPointer(y)
    var i = range.lowerBound
    while i + 8 <= range.upperBound {
      ry.storeBytes(
        of: f(rx.loadUnaligned(fromByteOffset: i * 4, as: V.self)), toByteOffset: i * 4, as: V.self)
      i += 8
    }
    let rest = range.upperBound - i
    if rest > 0 {
      var v = V(repeating: 0)
      for j in 0..<rest { v[j] = x[i + j] }
      let r = f(v)
      for j in 0..<rest { y[i + j] = r[j] }
    }
  }

  /// y = f(x) over a whole tensor, split over the thread pool like Elementwise.map.
  @inline(__always)
  static func map(_ x: Tensor, _ f: (V) -> V) -> Tensor {
    let out = Tensor(uninitialized: x.shape)
    let px = x.data
    let po = out.data
    Parallel.forChunks(x.count, minChunk: Elementwise.parallelThreshold) { r in map(px, po, r, f) }
    return out
  }
}
