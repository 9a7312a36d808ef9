import CBLAS
import XCTest

@testable import MoonlabTensor

/// SmallGEMM against OpenBLAS: every transpose combination, α and β, row counts 1–4 and
/// inner sizes 1–4 with many rows, widths around the 16- and 64-float blocks.
final class SmallGEMMTests: XCTestCase {
  func check(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, beta: Float,
    file: StaticString = #filePath, line: UInt = #line
  ) {
    let gen = Generator(seed: 7, stream: "small-gemm")
    // Leading dimensions wider than the matrices, as Linear's chunks and strided rows use.
    let (rowsA, colsA) = transA ? (k, m) : (m, k)
    let (rowsB, colsB) = transB ? (n, k) : (k, n)
    let (lda, ldb, ldc) = (colsA + 3, colsB + 5, n + 2)
    let a = (0..<rowsA * lda).map { _ in gen.uniform() * 2 - 1 }
    let b = (0..<rowsB * ldb).map { _ in gen.uniform() * 2 - 1 }
    let c0 = (0..<m * ldc).map { _ in beta == 0 ? Float.nan : gen.uniform() }
    var expected = c0.map { beta == 0 ? 0 : $0 }
    var got = c0
    cblas_sgemm(
      CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
      blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta,
      &expected, blasint(ldc))
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        got.withUnsafeMutableBufferPointer { pc in
          sgemm(
            transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: pa.baseAddress!,
            lda: lda, b: pb.baseAddress!, ldb: ldb, beta: beta, c: pc.baseAddress!, ldc: ldc,
            small: true)
        }
      }
    }
    for i in 0..<m {
      for j in 0..<ldc {
        let (x, y) = (got[i * ldc + j], expected[i * ldc + j])
        if j >= n {  // past the row's end: untouched
          let before = c0[i * ldc + j]
          XCTAssertTrue(x == before || (x.isNaN && before.isNaN), file: file, line: line)
          continue
        }
        XCTAssertEqual(
          x, y, accuracy: 1e-5 * Float(k) + 1e-6,
          "transA \(transA) transB \(transB) m \(m) n \(n) k \(k) at [\(i), \(j)]",
          file: file, line: line)
      }
    }
  }

  func testMatchesOpenBLAS() {
    for transA in [false, true] {
      for transB in [false, true] {
        for (m, n, k) in [(1, 100, 784), (4, 784, 100), (3, 10, 100), (2, 79, 65), (1, 1, 1)] {
          check(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, beta: 0)
          check(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, beta: 1)
          check(transA: transA, transB: transB, m: m, n: n, k: k, alpha: -2, beta: 0.25)
        }
        // A Linear layer's weight gradient at batch 1–4: many rows, inner size = batch.
        for k in 1...4 {
          check(transA: transA, transB: transB, m: 100, n: 784, k: k, alpha: 1, beta: 0)
        }
      }
    }
  }
}
