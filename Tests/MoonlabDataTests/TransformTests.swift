import MoonlabTensor
import XCTest

@testable import MoonlabData

/// Acceptance #3: PadCrop windows and offset uniformity, HFlip probability, composition.
final class TransformTests: XCTestCase {
  /// A batch [n,c,h,w] of distinct values (so a window is found at one offset only).
  func batch(_ n: Int, _ c: Int, _ h: Int, _ w: Int, seed: UInt64 = 1) -> Tensor {
    let t = Tensor(zeros: [n, c, h, w])
    let g = Generator(seed: seed)
    for i in 0..<t.count { t.data[i] = g.uniform() + 0.5 }
    return t
  }

  /// The naive oracle: pixel (y, x) of the image padded by `pad` (zero or reflect).
  func padded(
    _ img: UnsafeMutablePointer<Float>, h: Int, w: Int, pad: Int, reflect: Bool, _ y: Int, _ x: Int
  ) -> Float {
    var (sy, sx) = (y - pad, x - pad)
    if reflect {
      if sy < 0 { sy = -sy } else if sy >= h { sy = 2 * (h - 1) - sy }
      if sx < 0 { sx = -sx } else if sx >= w { sx = 2 * (w - 1) - sx }
    }
    guard sy >= 0, sy < h, sx >= 0, sx < w else { return 0 }
    return img[sy * w + sx]
  }

  /// Offsets (oy, ox) at which `out` equals a window of the padded `img`, per channel-set.
  func windows(
    of out: UnsafeMutablePointer<Float>, in img: UnsafeMutablePointer<Float>, c: Int, h: Int,
    w: Int, pad: Int, size: Int, reflect: Bool
  ) -> [(Int, Int)] {
    var found: [(Int, Int)] = []
    for oy in 0...(h + 2 * pad - size) {
      for ox in 0...(w + 2 * pad - size) {
        var same = true
        outer: for ch in 0..<c {
          for r in 0..<size {
            for j in 0..<size
            where out[(ch * size + r) * size + j]
              != padded(img + ch * h * w, h: h, w: w, pad: pad, reflect: reflect, oy + r, ox + j)
            {
              same = false
              break outer
            }
          }
        }
        if same { found.append((oy, ox)) }
      }
    }
    return found
  }

  func testPadCropOutputsAreWindowsOfThePaddedImage() throws {
    for reflect in [false, true] {
      let (n, c, h, w) = (40, 3, 32, 32)
      let x = batch(n, c, h, w)
      let crop = try PadCrop(pad: 4, size: 32, fill: reflect ? .reflect : .zero)
      let out = try crop.apply(x, Generator(seed: 7))
      XCTAssertEqual(out.shape, [n, c, 32, 32])
      let drawn = crop.drawOffsets(n, h: h, w: w, Generator(seed: 7))
      for i in 0..<n {
        let found = windows(
          of: out.data + i * c * 32 * 32, in: x.data + i * c * h * w, c: c, h: h, w: w, pad: 4,
          size: 32, reflect: reflect)
        XCTAssertEqual(found.count, 1, "image \(i) reflect=\(reflect)")
        XCTAssertTrue(
          found.first.map { $0 == drawn[i] } ?? false,
          "image \(i): window \(found) but drew \(drawn[i])")
      }
    }
  }

  func testPadCropSmallerWindowAndRectangularImage() throws {
    let x = batch(10, 2, 6, 9)
    let crop = try PadCrop(pad: 2, size: 5, fill: .reflect)
    let out = try crop.apply(x, Generator(seed: 3))
    for i in 0..<10 {
      XCTAssertFalse(
        windows(
          of: out.data + i * 2 * 25, in: x.data + i * 2 * 54, c: 2, h: 6, w: 9, pad: 2, size: 5,
          reflect: true
        ).isEmpty)
    }
    XCTAssertThrowsError(try PadCrop(pad: 1, size: 40).apply(x, Generator(seed: 1)))
    XCTAssertThrowsError(
      try PadCrop(pad: 4, size: 32).apply(Tensor(zeros: [2, 3]), Generator(seed: 1))
    ) { e in
      XCTAssertEqual("\(e)", "PadCrop: expected images [N,C,H,W], got [2,3]")
    }
  }

  /// Chi-square test of the offsets over 100,000 draws: each axis uniform over 0…8 (8
  /// degrees of freedom, 0.1 % critical value 26.12) and the 81 pairs jointly (80 d.o.f.,
  /// 0.1 % critical value 124.84).
  func testPadCropOffsetsAreUniform() throws {
    let crop = try PadCrop(pad: 4, size: 32)
    let n = 100_000
    let offsets = crop.drawOffsets(n, h: 32, w: 32, Generator(seed: 2024, stream: "augment.0.0"))
    var ys = [Double](repeating: 0, count: 9)
    var xs = [Double](repeating: 0, count: 9)
    var joint = [Double](repeating: 0, count: 81)
    for (y, x) in offsets {
      ys[y] += 1
      xs[x] += 1
      joint[y * 9 + x] += 1
    }
    func chiSquare(_ counts: [Double]) -> Double {
      let e = Double(n) / Double(counts.count)
      return counts.reduce(0) { $0 + ($1 - e) * ($1 - e) / e }
    }
    XCTAssertLessThan(chiSquare(ys), 26.12)
    XCTAssertLessThan(chiSquare(xs), 26.12)
    XCTAssertLessThan(chiSquare(joint), 124.84)
  }

  func testHFlipFlipsWithProbabilityP() throws {
    let flip = try HFlip(p: 0.3)
    let n = 100_000
    let flips = flip.drawFlips(n, Generator(seed: 5)).filter { $0 }.count
    // Binomial(n, 0.3): sd = 144.9; allow 4.5 sd.
    XCTAssertEqual(
      Double(flips), 0.3 * Double(n), accuracy: 4.5 * (Double(n) * 0.3 * 0.7).squareRoot())
    XCTAssertEqual(try HFlip(p: 0).drawFlips(1000, Generator(seed: 1)).filter { $0 }.count, 0)
    XCTAssertEqual(try HFlip(p: 1).drawFlips(1000, Generator(seed: 1)).filter { $0 }.count, 1000)
    XCTAssertThrowsError(try HFlip(p: 1.5))

    let x = batch(64, 3, 4, 5)
    let before = x.toArray()
    let decided = flip.drawFlips(64, Generator(seed: 9))
    _ = try flip.apply(x, Generator(seed: 9))
    for i in 0..<64 {
      for ch in 0..<3 {
        for r in 0..<4 {
          for j in 0..<5 {
            let base = ((i * 3 + ch) * 4 + r) * 5
            XCTAssertEqual(x.data[base + j], before[base + (decided[i] ? 4 - j : j)])
          }
        }
      }
    }
  }

  func testNormalizePerChannel() throws {
    let x = try Tensor(shape: [1, 2, 1, 2], values: [0.5, 1, 0.25, 0])
    _ = try Normalize(mean: [0.5, 0.25], std: [0.5, 0.25]).apply(x, Generator(seed: 0))
    XCTAssertEqual(x.toArray(), [0, 1, 0, -1])
    XCTAssertThrowsError(try Normalize(mean: [0.5], std: [0.5, 0.1]))
    XCTAssertThrowsError(
      try Normalize(mean: [0.5, 0.5, 0.5], std: [1, 1, 1]).apply(x, Generator(seed: 0))
    ) { e in
      XCTAssertTrue("\(e)".contains("Normalize: 3 channel means for a batch of shape [1,2,1,2]"))
    }
  }

  /// Compose runs its parts in order, continuing one generator.
  func testComposeEqualsTheStepsInOrder() throws {
    let crop = try PadCrop(pad: 2, size: 8, fill: .zero)
    let flip = try HFlip(p: 0.5)
    let norm = try Normalize(mean: [0.1, 0.2, 0.3], std: [0.5, 0.6, 0.7])
    let composed = Transform.compose([
      Transform(crop), Transform.compose([Transform(flip), Transform(norm)]),
    ])
    XCTAssertEqual(composed.stages.count, 3)
    let x = batch(16, 3, 8, 8)
    var a = x.clone()
    let g1 = Generator(seed: 11)
    for t in composed.workerPrefix { a = try t.apply(a, g1) }
    let g2 = Generator(seed: 11)
    let b = try norm.apply(try flip.apply(try crop.apply(x.clone(), g2), g2), g2)
    XCTAssertEqual(a.toArray(), b.toArray())
  }
}
