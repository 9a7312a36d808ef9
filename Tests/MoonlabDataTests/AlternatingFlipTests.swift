import MoonlabTensor
import TestSupport
import XCTest

@testable import MoonlabData

/// Airbench's alternating flip: image i is flipped at epoch e iff b_i XOR (e odd), with
/// b_i fixed by the loader's seed and i alone (docs/data.md, "Transforms").
final class AlternatingFlipTests: XCTestCase {
  /// n one-row images [1,1,2]: sample i is (2i, 2i+1), so a batch row tells which sample
  /// it is and whether it was flipped.
  func pairs(_ n: Int) throws -> Dataset {
    try Dataset(
      name: "pairs", sampleShape: [1, 1, 2], storage: .floats((0..<(2 * n)).map(Float.init)),
      targets: [Float](repeating: 0, count: n))
  }

  func loader(_ ds: Dataset, seed: UInt64, batch: Int = 7, prefetch: Int = 2) throws -> Loader {
    var o = Loader.Options()
    o.batchSize = batch
    o.shuffle = true
    o.dropLast = true
    o.seed = seed
    o.prefetch = prefetch
    o.transform = Transform(AlternatingFlip())
    return try Loader(ds, o)
  }

  /// Sample index → flipped, for one epoch.
  func flips(_ epoch: Epoch) throws -> [Int: Bool] {
    var out: [Int: Bool] = [:]
    while let b = try epoch.next() {
      let v = b.x.toArray()
      for k in 0..<(v.count / 2) {
        let (a, c) = (v[2 * k], v[2 * k + 1])
        XCTAssertEqual(abs(a - c), 1)
        out[Int(min(a, c)) / 2] = a > c
      }
    }
    return out
  }

  func testFlipsAlternateWithFixedPerImageCoins() throws {
    let ds = try pairs(50)
    let l = try loader(ds, seed: 5)
    var epochs: [[Int: Bool]] = []
    for _ in 0..<4 { epochs.append(try flips(l.nextEpoch())) }
    for (e, f) in epochs.enumerated() {
      XCTAssertEqual(f.count, 49, "drop_last: 7 batches of 7")
      for (i, flipped) in f {
        XCTAssertEqual(
          flipped, AlternatingFlip.coin(seed: 5, index: i) != (e % 2 == 1), "i=\(i) e=\(e)")
      }
    }
    // Seen in both: the same images flip alike in epochs 0 and 2, oppositely in 0 and 1.
    for i in 0..<50 {
      if let a = epochs[0][i], let b = epochs[2][i] { XCTAssertEqual(a, b) }
      if let a = epochs[0][i], let b = epochs[1][i] { XCTAssertNotEqual(a, b) }
    }
    // The shuffle differs between epochs, the coins don't depend on it.
    XCTAssertNotEqual(epochs[0].keys.sorted(), Array(0..<50))
  }

  /// The coins are fair: 10,000 of them are within 4 standard deviations (±200) of half,
  /// and another seed gives other coins.
  func testCoinsAreFairAndSeeded() throws {
    let heads = (0..<10_000).filter { AlternatingFlip.coin(seed: 1, index: $0) }.count
    XCTAssertEqual(Double(heads), 5000, accuracy: 200)
    let other = (0..<10_000).filter {
      AlternatingFlip.coin(seed: 1, index: $0) != AlternatingFlip.coin(seed: 2, index: $0)
    }.count
    XCTAssertEqual(Double(other), 5000, accuracy: 200)
    let f = try flips(try loader(try pairs(1000), seed: 3, batch: 100).nextEpoch())
    XCTAssertEqual(Double(f.values.filter { $0 }.count), 500, accuracy: 70)
  }

  /// Same seed ⇒ identical batches with PadCrop, AlternatingFlip and Normalize, whatever
  /// the prefetch depth or thread count; a resumed loader continues with the same parity.
  func testDeterministicAndResumable() throws {
    let g = Generator(seed: 42)
    let ds = try Dataset(
      name: "t", sampleShape: [3, 8, 8],
      storage: .bytes((0..<(100 * 192)).map { _ in UInt8(truncatingIfNeeded: g.next()) }),
      targets: [Float](repeating: 0, count: 100))
    func batches(_ threads: Int, _ prefetch: Int, from epoch: Int = 0) throws -> [[Float]] {
      try inRun(threads: threads) {
        var o = Loader.Options()
        o.batchSize = 16
        o.shuffle = true
        o.dropLast = true
        o.seed = 11
        o.prefetch = prefetch
        o.transform = Transform([
          .batch(try PadCrop(pad: 2, size: 8, fill: .reflect)), .batch(AlternatingFlip()),
          .batch(try Normalize(mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25])),
        ])
        let l = try Loader(ds, o)
        try l.restore(epoch: epoch)
        var out: [[Float]] = []
        for _ in epoch..<4 {
          let e = l.nextEpoch()
          while let b = try e.next() { out.append(b.x.toArray()) }
        }
        return out
      }
    }
    let reference = try batches(1, 0)
    XCTAssertEqual(reference.count, 4 * 6)
    XCTAssertEqual(try batches(2, 3), reference)
    XCTAssertEqual(try batches(1, 1, from: 3), Array(reference.suffix(6)))
  }

  func testNeedsALoader() throws {
    XCTAssertThrowsError(
      try AlternatingFlip().apply(Tensor(zeros: [2, 3, 4, 4]), Generator(seed: 1))
    ) {
      XCTAssertTrue("\($0)".contains("use it in a data.Loader"), "\($0)")
    }
    let context = BatchContext(rng: Generator(seed: 1), indices: [0, 1, 2], epoch: 0, seed: 0)
    XCTAssertThrowsError(try AlternatingFlip().apply(Tensor(zeros: [2, 3, 4, 4]), context)) {
      XCTAssertTrue("\($0)".contains("2 images but 3 dataset indices"), "\($0)")
    }
  }
}
