import Foundation
import MoonlabData
import MoonlabNN
import MoonlabTensor
import TestSupport
import XCTest

@testable import MoonlabLab

/// Mutated real files for every reader — CIFAR-10 batches (plain and gzipped, with a
/// meta file), MNIST IDX (plain and gzipped), safetensors checkpoints, .ipynb notebooks:
/// truncations, flipped bytes, giant length fields, inserted and repeated runs. Passing
/// means no crash: each file is read or refused with an error. The test command runs a
/// fixed budget (MOONLAB_FUZZ_FILES, default 1,000 files); the long run sets it higher.
final class ReaderFuzzTests: XCTestCase {
  struct Rng {
    var state: UInt64
    mutating func next() -> Int {
      state ^= state << 13
      state ^= state >> 7
      state ^= state << 17
      return Int(truncatingIfNeeded: state >> 1)
    }
    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : next() % n }
  }

  static func mutate(_ data: Data, _ rng: inout Rng) -> Data {
    var bytes = [UInt8](data)
    for _ in 0..<(1 + rng.below(3)) {
      let at = rng.below(max(bytes.count, 1))
      switch rng.below(6) {
      case 0: bytes = Array(bytes.prefix(rng.below(bytes.count + 1)))  // truncated
      case 1:  // bytes flipped
        for _ in 0..<(1 + rng.below(8)) where !bytes.isEmpty {
          bytes[rng.below(bytes.count)] ^= UInt8(1 + rng.below(255))
        }
      case 2:  // a giant length or count field (big- and little-endian readers)
        for k in 0..<min(8, bytes.count - at) {
          bytes[at + k] = k < 4 || rng.below(2) == 0 ? 0xff : 0x7f
        }
      case 3:
        bytes.insert(contentsOf: (0..<rng.below(64)).map { _ in UInt8(rng.below(256)) }, at: at)
      case 4: bytes += bytes.suffix(rng.below(512))  // a repeated tail
      default: if at < bytes.count { bytes[at] = [0, 0x7b, 0x22, 0x5b, 0x2c][rng.below(5)] }  // JSON punctuation
      }
    }
    return Data(bytes)
  }

  func gzip(_ data: Data, in dir: URL) throws -> Data {
    let url = dir.appendingPathComponent("seed-\(UUID().uuidString)")
    try data.write(to: url)
    let r = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["gzip", "-f", url.path])
    XCTAssertEqual(r.status, 0, r.stderr)
    return try Data(contentsOf: url.appendingPathExtension("gz"))
  }

  func idx(_ magic: UInt32, _ sizes: [UInt32], _ payload: [UInt8]) -> Data {
    var d = Data()
    for w in [magic] + sizes {
      d.append(contentsOf: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: w >> $0) })
    }
    return d + payload
  }

  func testMutatedFilesNeverCrashAnyReader() throws {
    let budget = Int(ProcessInfo.processInfo.environment["MOONLAB_FUZZ_FILES"] ?? "") ?? 1_000
    let dir = try TestPaths.temporaryDirectory()
    var rng = Rng(state: 0x9E37_79B9_7F4A_7C15)

    // Real files of each format as seeds.
    let cifar = Data(
      (0..<4).flatMap { i in [UInt8(i)] + (0..<3072).map { UInt8(truncatingIfNeeded: $0 * 7 + i) } }
    )
    let meta = Data("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n".utf8)
    let images = idx(0x803, [3, 28, 28], (0..<(3 * 784)).map { UInt8(truncatingIfNeeded: $0) })
    let labels = idx(0x801, [3], [1, 7, 9])
    let model = Sequential([
      try Conv2d(3, 4, kernelSize: 3), try BatchNorm2d(4), Flatten(), try Linear(36, 2),
    ])
    let checkpoint = dir.appendingPathComponent("seed.safetensors")
    try Checkpoint.save(model, to: checkpoint.path)
    let notebook = try Ipynb.encode(
      Ipynb.notebook(
        CellScript(parsing: "--%% [markdown]\n-- # Title\n--%%\nprint(1)\n--%%\nlocal x = 2\n")))
    let seeds: [(String, Data)] = [
      ("cifar", cifar), ("cifar.gz", try gzip(cifar, in: dir)), ("meta", meta), ("images", images),
      ("images.gz", try gzip(images, in: dir)), ("labels", labels),
      ("safetensors", try Data(contentsOf: checkpoint)), ("ipynb", notebook),
    ]

    var read = 0
    var refused = 0
    for n in 0..<budget {
      let (kind, seed) = seeds[n % seeds.count]
      let bytes = Self.mutate(seed, &rng)
      let file = dir.appendingPathComponent("fuzz-\(kind)")
      try bytes.write(to: file)
      do {
        switch kind {
        case "cifar", "cifar.gz":
          _ = try CIFAR10.load(files: [file], metaFile: dir.appendingPathComponent("absent"))
        case "meta":
          let batch = dir.appendingPathComponent("batch.bin")
          try cifar.write(to: batch)
          _ = try CIFAR10.load(files: [batch], metaFile: file)
        case "images", "images.gz":
          let l = dir.appendingPathComponent("labels-ok")
          try labels.write(to: l)
          _ = try MNIST.load(images: file, labels: l)
        case "labels":
          let i = dir.appendingPathComponent("images-ok")
          try images.write(to: i)
          _ = try MNIST.load(images: i, labels: file)
        case "safetensors":
          try Checkpoint.load(into: model, from: file.path)
        default:
          _ = try Ipynb.script(fromNotebook: bytes)
        }
        read += 1
      } catch {
        refused += 1
      }
    }
    print("reader fuzz: \(budget) mutated files, \(read) read, \(refused) refused, 0 crashes")
    XCTAssertEqual(read + refused, budget)
    XCTAssertGreaterThan(refused, budget / 4, "most mutations must be caught")
  }
}
