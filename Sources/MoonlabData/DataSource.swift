import Foundation

/// Where a dataset is read from and which files that takes, so a run can record what it
/// read and a rerun can read the same (docs/lab.md, "Provenance").
public struct DataSource: Equatable {
  public enum Origin: Equatable {
    /// The CIFAR-10 sample bundled with Moonlab (`Sample`).
    case bundledSample
    /// A dataset folder (`ROOT/cifar10`, `ROOT/mnist`).
    case folder(URL)
  }

  /// "cifar10" or "mnist".
  public let dataset: String
  public let split: String
  public let origin: Origin
  /// Every file the reader opens, all inside the origin's folder.
  public let files: [URL]

  /// Names a dataset split in a rerun's pins: "cifar10/train".
  public static func key(_ dataset: String, _ split: String) -> String { "\(dataset)/\(split)" }
  public var key: String { DataSource.key(dataset, split) }

  /// Reads the samples (every record validated by the reader).
  public func load() throws -> Dataset {
    switch (dataset, origin) {
    case ("cifar10", .bundledSample):
      guard let folder = Sample.cifar10Folder() else {
        throw DataError("cifar10: the bundled sample is missing from this Moonlab installation")
      }
      return try Sample.cifar10(split: split, folder: folder)
    case ("cifar10", .folder(let folder)): return try CIFAR10.load(split: split, folder: folder)
    case ("mnist", .folder(let folder)): return try MNIST.load(split: split, folder: folder)
    default: throw DataError("\(dataset): no reader for \(origin)")
    }
  }

  /// The source of `dataset`'s `split` in `origin`, listing the files its reader opens
  /// (CIFAR-10's batches.meta.txt only when present: the reader falls back to the standard
  /// class names without it).
  public static func make(_ dataset: String, split: String, origin: Origin) throws -> DataSource {
    let files: [URL]
    switch (dataset, origin) {
    case ("cifar10", .bundledSample):
      guard split == "train" || split == "test" else {
        throw DataError("cifar10: split must be 'train' or 'test', got '\(split)'")
      }
      guard let folder = Sample.cifar10Folder() else {
        throw DataError("cifar10: the bundled sample is missing from this Moonlab installation")
      }
      files = [folder.appendingPathComponent("\(split).bin.gz"), meta(in: folder)].compactMap { $0 }
    case ("cifar10", .folder(let folder)):
      files = try CIFAR10.files(split: split, in: folder) + [meta(in: folder)].compactMap { $0 }
    case ("mnist", .folder(let folder)):
      files = try MNIST.files(split: split, in: folder)
    default: throw DataError("\(dataset): no reader for \(origin)")
    }
    return DataSource(dataset: dataset, split: split, origin: origin, files: files)
  }

  private static func meta(in folder: URL) -> URL? {
    let url = folder.appendingPathComponent("batches.meta.txt")
    return FileManager.default.fileExists(atPath: url.path) ? url : nil
  }
}
