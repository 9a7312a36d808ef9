/// exp, tanh and sigmoid written so that a loop over them vectorises. libm's expf and
/// tanhf are opaque scalar calls; these use only arithmetic, comparisons that become
/// selects, and bit casts, so `for i in … { y[i] = VectorMath.exp(x[i]) }` compiles to
/// SIMD code (Swift's generic SIMD types were 10× slower here: their rounding, clamping
/// and lane-select ops are not lowered to vector instructions).
///
/// The algorithms are Cephes' expf and tanhf (range reduction plus a minimax polynomial,
/// ≤ 3 ulp over the whole float range, checked against Double in VectorMathTests); NaN,
/// ±inf, overflow and underflow (subnormals included) behave like libm. Public and
/// inlinable so other modules' loops (GELU in MoonlabNN) vectorise through them too.
public enum VectorMath {
  /// eˣ = 2ⁿ · eʳ with n = round(x / ln 2), |r| ≤ ln 2 / 2.
  @inlinable @inline(__always)
  public static func exp(_ x: Float) -> Float {
    // Beyond these bounds eˣ is inf or 0 in float32 anyway; clamping keeps n in range.
    var xc = x < -104 ? -104 : x
    xc = xc > 89 ? 89 : xc
    // Round to nearest by adding 1.5·2²³: the sum's low mantissa bits are then n itself
    // (baseline x86-64 has no vector round instruction).
    let t = xc * 1.442_695_040_888_963_4 + 12_582_912
    let nf = t - 12_582_912
    let n = Int32(bitPattern: t.bitPattern) &- 0x4B40_0000
    // ln 2 split in two so n · ln 2 is subtracted without rounding error.
    let r = xc - nf * 0.693_359_375 + nf * 2.121_944_4e-4
    var p: Float = 1.987_569_150_0e-4
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    let y = p * (r * r) + r + 1
    // 2ⁿ as 2^(n/2) · 2^(n − n/2): each factor is a normal float even when eˣ is
    // subnormal or overflows to inf.
    let n1 = n &>> 1
    let n2 = n &- n1
    let s1 = Float(bitPattern: UInt32(bitPattern: (n1 &+ 127) &<< 23))
    let s2 = Float(bitPattern: UInt32(bitPattern: (n2 &+ 127) &<< 23))
    let out = y * s1 * s2
    return x != x ? x : out
  }

  /// An odd polynomial below |x| = 0.625, 1 − 2 / (e²ˣ + 1) above it (where the
  /// subtraction loses nothing). Both are computed; a select picks one.
  @inlinable @inline(__always)
  public static func tanh(_ x: Float) -> Float {
    let a = x < 0 ? -x : x
    var big = 1 - 2 / (exp(a + a) + 1)
    big = x < 0 ? -big : big
    let z = x * x
    var p: Float = -5.704_988_727_45e-3
    p = p * z + 2.063_908_879_54e-2
    p = p * z - 5.373_971_555_31e-2
    p = p * z + 1.333_144_220_36e-1
    p = p * z - 3.333_328_194_22e-1
    let small = p * z * x + x
    return a >= 0.625 ? big : small
  }

  /// σ(x) = 1 / (1 + e⁻ˣ) for x ≥ 0 and eˣ / (1 + eˣ) below, so e^|x| never overflows
  /// and tiny results for very negative x keep their precision.
  @inlinable @inline(__always)
  public static func sigmoid(_ x: Float) -> Float {
    let e = exp(x < 0 ? x : -x)
    let s = 1 / (1 + e)
    return x < 0 ? e * s : s
  }

  /// erf(x) by Abramowitz & Stegun 7.1.26 (absolute error ≤ 1.5·10⁻⁷, the formula
  /// PyTorch's vectorised CPU erf uses): 1 − t·P(t)·e^(−x²), t = 1 / (1 + 0.3275911|x|).
  @inlinable @inline(__always)
  public static func erf(_ x: Float) -> Float { erf(x, expMinusSquare: exp(-x * x)) }

  /// erf(x) given e^(−x²) (GELU's derivative needs that exponential too).
  @inlinable @inline(__always)
  public static func erf(_ x: Float, expMinusSquare e: Float) -> Float {
    let a = x < 0 ? -x : x
    let t = 1 / (0.327_591_1 * a + 1)
    var p: Float = 1.061_405_429
    p = p * t - 1.453_152_027
    p = p * t + 1.421_413_741
    p = p * t - 0.284_496_736
    p = p * t + 0.254_829_592
    let y = 1 - p * t * e
    return x < 0 ? -y : y
  }
}
