import Foundation

/// CIFAR-10, binary version (https://www.cs.toronto.edu/~kriz/cifar.html): each batch file
/// is a run of 3,073-byte records, one label byte (0–9) then 1,024 red, 1,024 green and
/// 1,024 blue bytes, each plane 32×32 row-major — already NCHW.
public enum CIFAR10 {
  public static let recordSize = 1 + 3 * 32 * 32
  public static let defaultClasses = [
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
  ]

  /// The files of a split in a folder laid out like the official archive.
  public static func files(split: String, in folder: URL) throws -> [URL] {
    switch split {
    case "train": return (1...5).map { folder.appendingPathComponent("data_batch_\($0).bin") }
    case "test": return [folder.appendingPathComponent("test_batch.bin")]
    default: throw DataError("cifar10: split must be 'train' or 'test', got '\(split)'")
    }
  }

  /// Reads a split from `folder` (data_batch_1…5.bin or test_batch.bin, and
  /// batches.meta.txt for the class names).
  public static func load(split: String, folder: URL) throws -> Dataset {
    try load(
      files: files(split: split, in: folder),
      metaFile: folder.appendingPathComponent("batches.meta.txt"))
  }

  /// Reads and concatenates batch files (plain or gzipped), validating every record.
  public static func load(files: [URL], metaFile: URL) throws -> Dataset {
    var pixels: [UInt8] = []
    var labels: [Float] = []
    for url in files {
      let name = url.lastPathComponent
      guard FileManager.default.fileExists(atPath: url.path) else {
        throw DataError("cifar10: \(url.path) is missing")
      }
      let data = try Gzip.readMaybeCompressed(url, what: "cifar10: \(name)")
      guard !data.isEmpty, data.count % recordSize == 0 else {
        throw DataError(
          "cifar10: \(name): \(data.count) bytes is not a whole number of \(recordSize)-byte records (truncated or not a CIFAR-10 batch)"
        )
      }
      let n = data.count / recordSize
      pixels.reserveCapacity(pixels.count + n * (recordSize - 1))
      labels.reserveCapacity(labels.count + n)
      try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
        let bytes = raw.bindMemory(to: UInt8.self)
        for r in 0..<n {
          let label = bytes[r * recordSize]
          guard label < 10 else {
            throw DataError(
              "cifar10: \(name): record \(r + 1) has label byte \(label), expected 0…9")
          }
          labels.append(Float(label))
          pixels.append(contentsOf: bytes[(r * recordSize + 1)..<((r + 1) * recordSize)])
        }
      }
    }
    return try Dataset(
      name: "cifar10", sampleShape: [3, 32, 32], storage: .bytes(pixels), targets: labels,
      classes: try classNames(metaFile))
  }

  /// Class names from batches.meta.txt (one per line), or the standard ones if absent.
  /// Names are short printable text: anything else means the file is not what it claims.
  static func classNames(_ url: URL) throws -> [String] {
    guard let data = FileManager.default.contents(atPath: url.path) else { return defaultClasses }
    guard let text = String(data: data, encoding: .utf8),
      !text.unicodeScalars.contains(where: {
        $0.value < 0x20 && $0 != "\n" && $0 != "\r" && $0 != "\t"
      })
    else {
      throw DataError("cifar10: \(url.lastPathComponent): not a text file of class names")
    }
    let names = text.split(whereSeparator: \.isNewline).map {
      $0.trimmingCharacters(in: .whitespaces)
    }.filter {
      !$0.isEmpty
    }
    guard names.count == 10 else {
      throw DataError(
        "cifar10: \(url.lastPathComponent): expected 10 class names, found \(names.count)")
    }
    if let long = names.first(where: { $0.count > 64 }) {
      throw DataError(
        "cifar10: \(url.lastPathComponent): a class name of \(long.count) characters (at most 64)")
    }
    return names
  }
}
