import MoonlabTensor
import TestSupport
import XCTest

@testable import MoonlabNN

/// Conv2d's stride-1 unpadded paths against a naive convolution and its gradients: the
/// direct kernel (≤ 6 output channels, rows ≥ 8 wide, as LeNet's first layer; with and
/// without an overlapping last tile), the row-padded GEMM lowering (LeNet's second layer)
/// and classic im2col.
final class ConvLoweringTests: XCTestCase {
  func testStrideOnePathsMatchNaiveConvolution() throws {
    // (in, out, kernel, image size, direct forward and dW?, direct dx?, row-padded GEMM?)
    let cases = [
      (2, 3, 3, 12, true, true, true),  // 10-wide rows: the last 8-wide tile overlaps
      (3, 6, 5, 20, true, true, true),  // 16-wide rows, a full channel block, 75 taps (odd)
      (2, 3, 3, 11, true, true, true),  // odd output and input heights
      (1, 1, 3, 10, true, true, true),  // a single channel
      (2, 8, 3, 12, false, true, true),  // more output channels than one block: GEMM
      (8, 4, 3, 12, true, false, true),  // more input channels than one block: GEMM dx
      (2, 4, 3, 9, false, true, true),  // output rows narrower than a tile
      (2, 3, 3, 7, false, false, true),  // input rows narrower than a tile
      (2, 3, 7, 14, true, true, false),  // image much wider than the output
      (2, 8, 7, 14, false, true, false),  // … with more channels: classic im2col and GEMM
    ]
    for (cin, cout, k, size, direct, directInput, rowPadded) in cases {
      let geometry = ConvGeometry(
        channels: cin, height: size, width: size, kernel: k, stride: 1, padding: 0)
      let name = "\(cin)->\(cout) k\(k) \(size)px"
      // The portable build never takes the direct kernels (DirectConv.enabled).
      XCTAssertEqual(
        DirectConv.applies(geometry, outChannels: cout), direct && DirectConv.enabled, name)
      XCTAssertEqual(
        DirectConv.applies(DirectConv.transposed(geometry, outChannels: cout), outChannels: cin),
        directInput && DirectConv.enabled, name)
      XCTAssertEqual(ConvLowering(geometry).kind == .rowPadded, rowPadded, name)
      for threads in [1, 2] {
        // These images are tiny: split them anyway.
        try inRun(threads: threads, splitTinyBatches: true) {
          let conv = try Conv2d(cin, cout, kernelSize: k)
          let x = testTensor([3, cin, size, size], seed: 5)
          x.requiresGrad = true
          let y = try conv(x)
          let g = testTensor(y.shape, seed: 6)
          try y.backward(g)
          let (ny, ndx, ndw, ndb) = naiveConv(x, conv.weight, conv.bias, g)
          let name = "\(name), \(threads) threads"
          assertClose(y.toArray(), ny, rtol: 1e-4, atol: 1e-5, "output, \(name)")
          assertClose(try XCTUnwrap(x.grad).toArray(), ndx, rtol: 1e-4, atol: 1e-5, "dx, \(name)")
          assertClose(
            try XCTUnwrap(conv.weight.grad).toArray(), ndw, rtol: 1e-4, atol: 1e-4, "dw, \(name)")
          assertClose(
            try XCTUnwrap(conv.bias?.grad).toArray(), ndb, rtol: 1e-4, atol: 1e-4, "db, \(name)")
        }
      }
    }
  }
}
