import MoonlabTensor
import TestSupport
import XCTest

@testable import MoonlabNN

/// Conv2d's plans (`ConvPlan`) for padded, strided and 1×1 layers against the naive
/// convolution: several images per GEMM, partial last groups, odd sizes and channel
/// counts, 1 and 2 threads; which plan VGG and ResNet shapes get; gradcheck; determinism.
final class ConvPlanTests: XCTestCase {
  func testPlansMatchNaiveConvolution() throws {
    // (in, out, kernel, stride, padding, height, width, batch, bias)
    let cases = [
      (3, 5, 3, 1, 1, 7, 9, 5, true),  // odd sizes, several images per GEMM
      (5, 17, 3, 1, 1, 10, 10, 5, false),  // 100 columns: groups of 2, a partial last one
      (4, 9, 3, 1, 1, 33, 31, 3, true),  // 1023 columns: one image per GEMM, in place
      (8, 5, 3, 1, 1, 7, 9, 5, true),  // Winograd: odd sizes, a partial last tile
      (9, 17, 3, 1, 1, 12, 12, 5, false),  // … 36 tiles: groups of 3, a partial last one
      (16, 9, 3, 1, 1, 33, 31, 3, true),  // … one image per group
      (8, 3, 3, 1, 1, 1, 2, 3, true),  // … an image smaller than a tile
      (8, 5, 3, 1, 1, 7, 16, 3, true),  // … rows of 8-multiples, an odd last tile row
      (8, 6, 3, 1, 1, 15, 15, 3, false),  // … the speedrun's odd widths: rows copied, padded
      (9, 8, 3, 1, 1, 3, 3, 4, false),  // … 3×3: one padded vector per row
      (3, 6, 3, 2, 1, 9, 8, 3, true),  // stride 2, odd height
      (6, 10, 3, 2, 1, 16, 16, 1, false),  // stride 2, batch 1
      (7, 3, 1, 1, 0, 5, 6, 4, false),  // 1×1: the image is the column matrix
      (7, 3, 1, 1, 0, 33, 32, 3, true),  // … one image per GEMM: no copy at all
      (6, 11, 1, 2, 0, 9, 7, 3, false),  // 1×1 stride 2: a strided gather
      (2, 3, 5, 2, 2, 6, 6, 2, true),  // a 5×5 kernel, padding 2
      (2, 3, 3, 3, 1, 2, 4, 3, true),  // padding wider than what the image leaves
    ]
    for (cin, cout, k, s, p, h, w, batch, bias) in cases {
      for threads in [1, 2] {
        try inRun(threads: threads, splitTinyBatches: true) {
          let name =
            "\(cin)->\(cout) k\(k) s\(s) p\(p) \(h)x\(w) batch \(batch), \(threads) threads"
          let conv = try Conv2d(cin, cout, kernelSize: k, stride: s, padding: p, bias: bias)
          let x = testTensor([batch, cin, h, w], seed: 5)
          x.requiresGrad = true
          let y = try conv(x)
          let g = testTensor(y.shape, seed: 6)
          try y.backward(g)
          let r = naiveConv(x, conv.weight, conv.bias, g, stride: s, padding: p)
          assertClose(y.toArray(), r.y, rtol: 1e-4, atol: 1e-5, "output, \(name)")
          assertClose(try XCTUnwrap(x.grad).toArray(), r.dx, rtol: 1e-4, atol: 1e-5, "dx, \(name)")
          // Scaled by the largest |dW| for F(4×4): see Winograd4Tests.check.
          let dwTolerance = max(1e-4, 1e-5 * (r.dw.map(abs).max() ?? 0))
          assertClose(
            try XCTUnwrap(conv.weight.grad).toArray(), r.dw, rtol: 1e-4, atol: dwTolerance,
            "dw, \(name)")
          if bias {
            assertClose(
              try XCTUnwrap(conv.bias?.grad).toArray(), r.db, rtol: 1e-4, atol: 1e-4, "db, \(name)")
          }
        }
      }
    }
  }

  /// The plans the issue-12 and speedrun shapes get at batch 128 and 2 threads: a change of path must
  /// show up here, not as a silent fallback.
  func testCIFARShapesGetTheirPlans() {
    // (in, out, kernel, stride, padding, input size, plan)
    let expected = [
      (3, 16, 3, 1, 1, 32, "im2col x1"),  // ResNet's first layer
      (16, 16, 3, 1, 1, 32, "winograd4 x2"),
      (16, 32, 3, 2, 1, 32, "im2col x1"),
      (32, 32, 3, 1, 1, 16, "winograd4 x8"),
      (64, 64, 3, 1, 1, 8, "winograd x8"),  // F(2×2) at 8×8 with 64 channels
      (16, 32, 1, 2, 0, 32, "im2col x1"),  // the 1×1 stride-2 shortcuts
      (32, 64, 1, 2, 0, 16, "im2col x4"),
      (64, 128, 3, 1, 1, 8, "winograd x8"),  // VGG's last
      (24, 64, 3, 1, 1, 31, "winograd4 x2"),  // the speedrun's
      (64, 64, 3, 1, 1, 15, "winograd4 x8"),
      (64, 256, 3, 1, 1, 15, "winograd4 x8"),
      (256, 256, 3, 1, 1, 7, "winograd4 x32"),
      (256, 256, 3, 1, 1, 3, "winograd x32"),
      (16, 16, 1, 1, 0, 8, "identity x4"),
      (3, 6, 5, 1, 0, 32, "direct, direct dX"),  // LeNet
    ]
    inRun(threads: 2, splitTinyBatches: true) {
      for (cin, cout, k, s, p, size, plan) in expected {
        let g = ConvGeometry(
          channels: cin, height: size, width: size, kernel: k, stride: s, padding: p)
        let chosen = ConvPlan(g, outChannels: cout, batch: 128).description
        // The portable build never takes the direct kernels (DirectConv.enabled).
        let wanted = plan.hasPrefix("direct") && !DirectConv.enabled ? "rowPadded x1" : plan
        XCTAssertEqual(chosen, wanted, "\(cin)->\(cout) k\(k) s\(s) @\(size)")
      }
    }
  }

  func testInputGradientsPassGradcheck() throws {
    // (in, out, kernel, stride, padding, size): im2col, strided, 1×1, 1×1 strided,
    // row-padded, Winograd, direct (in the AVX2 and AVX-512 builds)
    let cases = [
      (2, 3, 3, 1, 1, 5), (2, 3, 3, 2, 1, 5), (3, 2, 1, 1, 0, 4), (3, 2, 1, 2, 0, 5),
      (2, 3, 3, 1, 0, 5), (8, 3, 3, 1, 1, 5), (2, 3, 3, 1, 0, 10),
    ]
    try inRun(threads: 2, splitTinyBatches: true) {
      for (cin, cout, k, s, p, size) in cases {
        let conv = try Conv2d(cin, cout, kernelSize: k, stride: s, padding: p)
        let (ok, err) = try gradcheck(
          { try conv($0[0]) }, inputs: [testTensor([3, cin, size, size], seed: 7)])
        XCTAssertTrue(ok, "\(cin)->\(cout) k\(k) s\(s) p\(p): max error \(err)")
      }
    }
  }

  func testTwoRunsAtTwoThreadsAreBitIdentical() throws {
    try inRun(threads: 2, splitTinyBatches: true) {
      // Winograd, then im2col with groups of images (stride 2)
      for stride in [1, 2] {
        let conv = try Conv2d(16, 24, kernelSize: 3, stride: stride, padding: 1)
        func run() throws -> [[Float]] {
          conv.weight.grad = nil
          conv.bias?.grad = nil
          let x = testTensor([9, 16, 10, 10], seed: 8)
          x.requiresGrad = true
          let y = try conv(x)
          try y.backward(testTensor(y.shape, seed: 9))
          return [
            y.toArray(), try XCTUnwrap(x.grad).toArray(),
            try XCTUnwrap(conv.weight.grad).toArray(), try XCTUnwrap(conv.bias?.grad).toArray(),
          ]
        }
        XCTAssertEqual(try run(), try run(), "stride \(stride)")
      }
    }
  }

}
