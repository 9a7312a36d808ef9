import CBLAS
import Foundation
import MoonlabTensor

/// The tensor core's hot paths: matmul through `Tensor.matmul` against `cblas_sgemm`
/// called directly on preallocated buffers (target ≥ 95%), and elementwise kernels
/// (memory-bound `add`, transcendental `exp`, and a 4-op chain) on 4M floats.
enum TensorBench {
  static func run() throws {
    for n in [256, 512, 1024] { try matmul(n) }
    try matmulOverhead()
    try elementwise(n: 1 << 22)
  }

  /// Both sides are timed in alternation, so machine noise hits them alike.
  static func matmul(_ n: Int) throws {
    let g = Generator(seed: 1, stream: "bench")
    let a = try Tensor.randn([n, n], generator: g)
    let b = try Tensor.randn([n, n], generator: g)
    let c = Tensor(zeros: [n, n])
    let inner = max(1, (1 << 30) / (n * n * n))  // ≈ 2 GFLOP per timed run
    var direct: [Double] = []
    var ours: [Double] = []
    for _ in 0..<15 {
      direct.append(
        Timing.median(repeats: 1) {
          for _ in 0..<inner {
            cblas_sgemm(
              CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(n), blasint(n), blasint(n), 1,
              a.data,
              blasint(n), b.data, blasint(n), 0, c.data, blasint(n))
          }
        })
      ours.append(try Timing.median(repeats: 1) { for _ in 0..<inner { _ = try a.matmul(b) } })
    }
    let flops = 2 * Double(n * n * n) * Double(inner)
    let gDirect = flops / median(direct) / 1e9
    let gOurs = flops / median(ours) / 1e9
    Timing.report(
      "matmul_\(n)", gOurs, "GFLOP/s",
      String(format: "cblas_sgemm %.1f GFLOP/s, %.1f%% of it", gDirect, 100 * gOurs / gDirect))
  }

  /// What Tensor.matmul adds to a GEMM (checks, output allocation, tape), measured on
  /// 8 × 8 products where the GEMM itself is tiny. Robust on a noisy machine, unlike the
  /// ratios above: divided by a GEMM's time it bounds the wrapper's share.
  static func matmulOverhead() throws {
    let g = Generator(seed: 3, stream: "bench")
    let n = 8
    let calls = 100_000
    let a = try Tensor.randn([n, n], generator: g)
    let b = try Tensor.randn([n, n], generator: g)
    let c = Tensor(zeros: [n, n])
    let direct = Timing.median {
      for _ in 0..<calls {
        cblas_sgemm(
          CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(n), blasint(n), blasint(n), 1, a.data,
          blasint(n), b.data, blasint(n), 0, c.data, blasint(n))
      }
    }
    let ours = try Timing.median { for _ in 0..<calls { _ = try a.matmul(b) } }
    Timing.report(
      "matmul_overhead", (ours - direct) / Double(calls) * 1e6, "us/call",
      "Tensor.matmul minus cblas_sgemm at 8x8")
  }

  static func elementwise(n: Int) throws {
    let g = Generator(seed: 2, stream: "bench")
    let x = try Tensor.randn([n], generator: g)
    let y = try Tensor.randn([n], generator: g)
    let add = try Timing.median { _ = try x.add(y) }
    Timing.report("add_4m", 12 * Double(n) / add / 1e9, "GB/s", "x + y, 3 floats moved per element")
    let exp = Timing.median { _ = x.exp() }
    Timing.report("exp_4m", Double(n) / exp / 1e9, "Gelem/s")
    let chain = try Timing.median { _ = try x.mul(y).add(x).relu().tanh() }
    Timing.report(
      "elementwise_chain_4m", Double(n) / chain / 1e9, "Gelem/s", "tanh(relu(x*y + x)), 4 kernels")
  }

  static func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
}
