import Foundation
import TestSupport

/// Small data roots for provenance and rerun tests: real formats, a few records each.
enum DataFixtures {
  /// `root/mnist` with `images` 28×28 images per split (plain IDX files), pixels and
  /// labels a fixed pattern.
  static func mnist(in root: URL, images: Int = 6) throws {
    let folder = root.appendingPathComponent("mnist")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    func word(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * $0)) } }
    for prefix in ["train", "t10k"] {
      let pixels = (0..<(images * 28 * 28)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
      let labels = (0..<images).map { UInt8($0 % 10) }
      try Data(word(0x803) + word(images) + word(28) + word(28) + pixels).write(
        to: folder.appendingPathComponent("\(prefix)-images-idx3-ubyte"))
      try Data(word(0x801) + word(images) + labels).write(
        to: folder.appendingPathComponent("\(prefix)-labels-idx1-ubyte"))
    }
  }

  /// A root whose `cifar10` is complete: the shared full CIFAR-10 when there is one (the
  /// acceptance setting), else `records` made-up images per batch file under `scratch`.
  static func fullCIFAR10(scratch: URL, records: Int = 4) throws -> URL {
    if let shared = TestPaths.data,
      FileManager.default.fileExists(
        atPath: shared.appendingPathComponent("cifar10/data_batch_5.bin").path)
    {
      return shared
    }
    let folder = scratch.appendingPathComponent("cifar10")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    var bytes = [UInt8](repeating: 128, count: records * 3073)
    for r in 0..<records { bytes[r * 3073] = UInt8(r % 10) }
    let batch = Data(bytes)
    for name in (1...5).map({ "data_batch_\($0).bin" }) + ["test_batch.bin"] {
      try batch.write(to: folder.appendingPathComponent(name))
    }
    return scratch
  }

  /// Sets a file's modification time `seconds` into the past (old enough for the hash cache).
  static func age(_ file: URL, seconds: TimeInterval = 3600) throws {
    try FileManager.default.setAttributes(
      [.modificationDate: Date(timeIntervalSinceNow: -seconds)], ofItemAtPath: file.path)
  }
}
