import MoonlabTensor
import TestSupport
import XCTest

@testable import MoonlabNN

/// Both Winograd variants (F(2×2, 3×3) and F(4×4, 3×3), forced through `ConvPlan`)
/// against the naive convolution, whichever the plan would pick for the shape: partial
/// tiles of every width mod 4, groups of images, tiny images, 1 and 2 threads.
final class Winograd4Tests: XCTestCase {
  func testBothVariantsMatchNaiveConvolution() throws {
    // (in, out, height, width, batch, bias)
    let cases = [
      (8, 5, 7, 9, 5, true),  // odd sizes, partial tiles
      (9, 17, 12, 12, 5, false),  // 9 tiles: groups of 14, a partial last one
      (16, 9, 33, 31, 3, true),  // widths ≡ 1 and 3 mod 4
      (8, 3, 1, 2, 3, true),  // an image smaller than a tile
      (8, 5, 6, 16, 3, true),  // rows of whole vectors, a partial last tile row
      (8, 6, 15, 15, 3, false),  // the speedrun's odd widths
      (9, 8, 3, 3, 4, false),  // 3×3: one tile
      (12, 7, 8, 8, 40, true),  // 8×8: groups of 32 images, a partial one
      (8, 4, 10, 34, 2, false),  // ≡ 2 mod 4, a 16-float step and a tail per row
      (24, 16, 31, 31, 2, false),  // the speedrun's first
    ]
    for (cin, cout, h, w, batch, bias) in cases {
      for f4 in [false, true] {
        for threads in [1, 2] {
          try inRun(threads: threads, splitTinyBatches: true) {
            let name =
              "\(f4 ? "F(4x4)" : "F(2x2)") \(cin)->\(cout) \(h)x\(w) batch \(batch), \(threads) threads"
            try check(cin, cout, h, w, batch, bias, f4: f4, name)
          }
        }
      }
    }
  }

  /// Forward, dX, dW and db of one forced plan against `naiveConv`.
  func check(
    _ cin: Int, _ cout: Int, _ h: Int, _ w: Int, _ batch: Int, _ bias: Bool, f4: Bool,
    _ name: String
  ) throws {
    let conv = try Conv2d(cin, cout, kernelSize: 3, stride: 1, padding: 1, bias: bias)
    let geometry = ConvGeometry(
      channels: cin, height: h, width: w, kernel: 3, stride: 1, padding: 1)
    let plan = ConvPlan(geometry, outChannels: cout, batch: batch, winograd4: f4)
    XCTAssertTrue(plan.winograd && plan.winograd4 == f4, name)
    let x = testTensor([batch, cin, h, w], seed: 5)
    let g = testTensor([batch, cout, h, w], seed: 6)
    let (y, dx) = (Tensor(zeros: g.shape), Tensor(zeros: x.shape))
    let dw = Tensor(zeros: conv.weight.shape)
    let db = Tensor(zeros: [cout])
    let scratch = Workspace()
    try plan.forward(
      input: x.data, weight: conv.weight.data, bias: conv.bias?.data, output: y.data,
      scratch: scratch)
    try plan.backward(
      gradOutput: g.data, input: x.data, weight: conv.weight.data, gradInput: dx.data,
      gradWeight: dw, gradBias: bias ? db : nil, scratch: scratch)
    let r = naiveConv(x, conv.weight, conv.bias, g, stride: 1, padding: 1)
    assertClose(y.toArray(), r.y, rtol: 1e-4, atol: 1e-5, "output, \(name)")
    assertClose(dx.toArray(), r.dx, rtol: 1e-4, atol: 1e-5, "dx, \(name)")
    // F(4×4)'s dW is ~10× F(2×2)'s error: against a Double reference, max |error| / max
    // |dW| measured 1.4–5.0e-6 (F(2×2) 0.2–0.5e-6; this Float loop itself 0.6–1.9e-6),
    // so a dW element near zero among elements of ~100 needs atol scaled by the largest.
    let dwTolerance = max(1e-4, 1e-5 * (r.dw.map(abs).max() ?? 0))
    assertClose(dw.toArray(), r.dw, rtol: 1e-4, atol: dwTolerance, "dw, \(name)")
    if bias { assertClose(db.toArray(), r.db, rtol: 1e-4, atol: 1e-4, "db, \(name)") }
  }
}
