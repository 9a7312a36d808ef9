import MoonlabTensor
import TestSupport
import XCTest

@testable import MoonlabData

final class LoaderTests: XCTestCase {
  /// n byte images [3,8,8] with labels i % 10.
  func images(_ n: Int) throws -> Dataset {
    let g = Generator(seed: 42)
    let bytes = (0..<(n * 192)).map { _ in UInt8(truncatingIfNeeded: g.next()) }
    return try Dataset(
      name: "t", sampleShape: [3, 8, 8], storage: .bytes(bytes),
      targets: (0..<n).map { Float($0 % 10) },
      classes: (0..<10).map(String.init))
  }

  func augment() throws -> Transform {
    Transform([
      .batch(try PadCrop(pad: 2, size: 8)), .batch(try HFlip(p: 0.5)),
      .batch(try Normalize(mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25])),
    ])
  }

  /// All batches of `epochs` epochs, flattened.
  func run(_ loader: Loader, epochs: Int) throws -> [[Float]] {
    var out: [[Float]] = []
    for _ in 0..<epochs {
      let epoch = loader.nextEpoch()
      while let b = try epoch.next() { out.append(b.x.toArray() + b.y.toArray()) }
    }
    return out
  }

  func testCountsAndDropLast() throws {
    let ds = try images(100)
    var o = Loader.Options()
    o.batchSize = 32
    XCTAssertEqual(try Loader(ds, o).count, 4)
    XCTAssertEqual(
      try run(try Loader(ds, o), epochs: 1).map(\.count), [32, 32, 32, 4].map { $0 * 193 })
    o.dropLast = true
    XCTAssertEqual(try Loader(ds, o).count, 3)
    XCTAssertEqual(try run(try Loader(ds, o), epochs: 1).count, 3)
    o.batchSize = 0
    XCTAssertThrowsError(try Loader(ds, o))
  }

  /// Each epoch is a new permutation covering every sample once.
  func testShufflePerEpoch() throws {
    let ds = try Dataset(
      name: "ids", sampleShape: [1], storage: .floats((0..<50).map(Float.init)),
      targets: [Float](repeating: 0, count: 50))
    var o = Loader.Options()
    o.batchSize = 7
    o.shuffle = true
    o.seed = 3
    let loader = try Loader(ds, o)
    var orders: [[Float]] = []
    for _ in 0..<3 {
      let epoch = loader.nextEpoch()
      var ids: [Float] = []
      while let b = try epoch.next() { ids += b.x.toArray() }
      XCTAssertEqual(ids.sorted(), (0..<50).map(Float.init))
      orders.append(ids)
    }
    XCTAssertNotEqual(orders[0], orders[1])
    XCTAssertNotEqual(orders[1], orders[2])
    o.shuffle = false
    let plain = try Loader(ds, o).nextEpoch()
    XCTAssertEqual(try plain.next()?.x.toArray(), (0..<7).map(Float.init))
  }

  /// Same seed ⇒ identical batches whatever the prefetch depth or thread count.
  func testDeterministicAcrossPrefetchAndThreads() throws {
    let ds = try images(300)
    var reference: [[Float]]?
    for threads in [1, 2] {
      try inRun(threads: threads) {
        for prefetch in [0, 1, 3, 16] {
          var o = Loader.Options()
          o.batchSize = 32
          o.shuffle = true
          o.seed = 99
          o.transform = try augment()
          o.prefetch = prefetch
          let batches = try run(try Loader(ds, o), epochs: 2)
          XCTAssertEqual(batches.count, 20)
          if let reference {
            XCTAssertEqual(batches, reference, "threads=\(threads) prefetch=\(prefetch)")
          } else {
            reference = batches
          }
        }
      }
    }
    // A different seed gives different batches.
    var o = Loader.Options()
    o.batchSize = 32
    o.shuffle = true
    o.seed = 100
    o.transform = try augment()
    XCTAssertNotEqual(try run(try Loader(ds, o), epochs: 2), reference)
  }

  /// A slow consumer and an abandoned epoch: the worker waits, then stops.
  func testAbandonedEpochAndRestart() throws {
    var o = Loader.Options()
    o.batchSize = 10
    o.prefetch = 2
    let loader = try Loader(try images(100), o)
    let first = loader.nextEpoch()
    _ = try first.next()
    let second = loader.nextEpoch()
    var n = 0
    while try second.next() != nil { n += 1 }
    XCTAssertEqual(n, 10)
    XCTAssertEqual(loader.epoch, 2)
  }

  /// A failing transform on the worker surfaces as the consumer's error.
  func testWorkerErrorReachesConsumer() throws {
    var o = Loader.Options()
    o.batchSize = 10
    o.transform = Transform(try Normalize(mean: [0, 0], std: [1, 1]))
    let epoch = try Loader(try images(30), o).nextEpoch()
    XCTAssertThrowsError(try epoch.next()) { e in
      XCTAssertTrue("\(e)".contains("Normalize"), "\(e)")
    }
    XCTAssertThrowsError(try epoch.next())
  }

  /// Stages after a main-thread stage run on the consumer, in order, with the same generator.
  func testMainThreadStageRunsOnConsumer() throws {
    final class Marker: MainThreadTransform {}
    let marker = Marker()
    var o = Loader.Options()
    o.batchSize = 16
    o.prefetch = 2
    o.transform = Transform([
      .batch(try PadCrop(pad: 2, size: 8)), .mainThread(marker), .batch(try HFlip(p: 0.5)),
    ])
    let loader = try Loader(try images(64), o)
    let epoch = loader.nextEpoch()
    var calls = 0
    while let b = try epoch.next(runMainThread: { t, batch in
      XCTAssertTrue(t === marker)
      XCTAssertTrue(Thread.isMainThread)
      calls += 1
      return batch
    }) {
      XCTAssertEqual(b.x.shape, [16, 3, 8, 8])
    }
    XCTAssertEqual(calls, 4)
    // Same batches as running every stage on one thread.
    o.prefetch = 0
    o.transform = Transform([.batch(try PadCrop(pad: 2, size: 8)), .batch(try HFlip(p: 0.5))])
    let direct = try run(try Loader(try images(64), o), epochs: 1)
    o.transform = Transform([
      .batch(try PadCrop(pad: 2, size: 8)), .mainThread(marker), .batch(try HFlip(p: 0.5)),
    ])
    o.prefetch = 3
    let split = try run(try Loader(try images(64), o), epochs: 1)
    XCTAssertEqual(split, direct)
  }
}
