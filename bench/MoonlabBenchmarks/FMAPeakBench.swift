import MoonlabTensor

/// The machine's measured multiply-add peak on `--threads` threads: independent fused
/// multiply-add chains in registers, nothing from memory. The training benchmarks' GFLOP/s
/// are read against it. The AVX-512 build measures 16-wide FMAs, the AVX2/FMA build 8-wide
/// ones (on Zen 4 both peak alike: its 512-bit FMAs are two 256-bit halves).
enum FMAPeakBench {
  #if MOONLAB_AVX512
    typealias Lanes = SIMD16<Float>
  #else
    typealias Lanes = SIMD8<Float>
  #endif
  static func run() throws {
    let iterations = 20_000_000
    let threads = RunContext.current.threads
    let seconds = Timing.median(repeats: 5) {
      Parallel.forChunks(threads) { _ in sink(chains(iterations)) }
    }
    // 10 chains × lanes × 2 FLOPs per iteration, on every thread.
    let flops = Double(iterations) * 10 * Double(Lanes.scalarCount) * 2 * Double(threads)
    Timing.report(
      "fma_peak", flops / seconds / 1e9, "GFLOP/s",
      "\(threads) threads, \(Lanes.scalarCount)-wide fused multiply-adds, \(KernelBuild.name) build"
    )
  }

  /// Ten independent accumulators: enough to cover the FMA latency on two pipes.
  @inline(never)
  static func chains(_ n: Int) -> Lanes {
    let m = Lanes(repeating: 0.999_999)
    let b = Lanes(repeating: 1e-7)
    var (a0, a1, a2, a3, a4) = (m, m + 1, m + 2, m + 3, m + 4)
    var (a5, a6, a7, a8, a9) = (m + 5, m + 6, m + 7, m + 8, m + 9)
    for _ in 0..<n {
      a0 = mulAdd(a0, m, b)
      a1 = mulAdd(a1, m, b)
      a2 = mulAdd(a2, m, b)
      a3 = mulAdd(a3, m, b)
      a4 = mulAdd(a4, m, b)
      a5 = mulAdd(a5, m, b)
      a6 = mulAdd(a6, m, b)
      a7 = mulAdd(a7, m, b)
      a8 = mulAdd(a8, m, b)
      a9 = mulAdd(a9, m, b)
    }
    return (a0 + a1 + a2 + a3 + a4) + (a5 + a6 + a7 + a8 + a9)
  }

  @inline(__always)
  static func mulAdd(_ a: Lanes, _ b: Lanes, _ c: Lanes) -> Lanes {
    #if MOONLAB_FMA
      c.addingProduct(a, b)
    #else
      c + a * b
    #endif
  }

  @inline(never)
  static func sink(_ v: Lanes) { if v.sum() == .infinity { print("") } }
}
