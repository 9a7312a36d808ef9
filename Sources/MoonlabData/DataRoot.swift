import Foundation

/// Where datasets live: `$MOONLAB_DATA`, then `./data`. A root holds `cifar10/` (the
/// official binary batches) and `mnist/` (the IDX files). When no root has CIFAR-10, the
/// small real sample bundled with Moonlab stands in, and a line on stderr says so.
public enum DataRoot {
  /// The candidate roots in order of preference.
  public static func candidates(environment: [String: String] = ProcessInfo.processInfo.environment)
    -> [URL]
  {
    var roots: [URL] = []
    if let env = environment["MOONLAB_DATA"], !env.isEmpty {
      roots.append(URL(fileURLWithPath: env))
    }
    roots.append(
      URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("data"))
    return roots
  }

  /// The folder of dataset `name` ("cifar10", "mnist") under an explicit root, or the
  /// first of the default roots that has it.
  public static func folder(_ name: String, root: String?, defaults: [URL] = candidates()) -> URL? {
    let roots = root.map { [URL(fileURLWithPath: $0)] } ?? defaults
    for r in roots {
      let f = r.appendingPathComponent(name)
      if isComplete(name, f) { return f }
    }
    return nil
  }

  static func isComplete(_ name: String, _ folder: URL) -> Bool {
    let fm = FileManager.default
    switch name {
    case "cifar10":
      return ((try? CIFAR10.files(split: "train", in: folder)) ?? []).allSatisfy {
        fm.fileExists(atPath: $0.path)
      }
        && fm.fileExists(atPath: folder.appendingPathComponent("test_batch.bin").path)
    case "mnist":
      return MNIST.fileNames.allSatisfy { (try? MNIST.find($0, in: folder)) != nil }
    default:
      return fm.fileExists(atPath: folder.path)
    }
  }

  /// CIFAR-10 `split` from `root` (if given) or the default roots, falling back to the
  /// bundled sample (saying so through `notice`) when no default root has it.
  public static func cifar10(
    split: String, root: String?, defaults: [URL] = candidates(),
    notice: (String) -> Void = { _ in }
  ) throws -> Dataset {
    try open("cifar10", split: split, root: root, defaults: defaults, notice: notice).dataset
  }

  public static func mnist(split: String, root: String?) throws -> Dataset {
    try open("mnist", split: split, root: root).dataset
  }

  /// Reads `dataset`'s `split` and says where from. The source is `root` when given; else
  /// the `pinned` origin a rerun recorded (the bundled sample stays the sample even when
  /// $MOONLAB_DATA has the full set), while it is still there; else the first default root
  /// that has the dataset; else, for CIFAR-10, the bundled sample.
  public static func open(
    _ dataset: String, split: String, root: String?, pinned: DataSource.Origin? = nil,
    defaults: [URL] = candidates(), notice: (String) -> Void = { _ in }
  ) throws -> (dataset: Dataset, source: DataSource) {
    if root == nil, let pinned {
      if let source = try pinnedSource(dataset, split: split, pinned) {
        notice("data: \(dataset) \(split): reading \(describe(pinned)), as the recorded run did")
        return (try source.load(), source)
      }
      notice(
        "data: \(dataset) \(split): the recorded source (\(describe(pinned))) is missing or incomplete; reading the default one"
      )
    }
    if let folder = folder(dataset, root: root, defaults: defaults) {
      let source = try DataSource.make(dataset, split: split, origin: .folder(folder))
      return (try source.load(), source)
    }
    let whereTo = root.map { "\($0)/\(dataset)" } ?? "$MOONLAB_DATA/\(dataset) or ./data/\(dataset)"
    switch dataset {
    case "cifar10":
      if let root {
        throw DataError(
          "cifar10: no CIFAR-10 in \(root)/cifar10 (run: moonlab data fetch cifar10 --root \(root))"
        )
      }
      guard Sample.cifar10Folder() != nil else {
        throw DataError(
          "cifar10: no CIFAR-10 under $MOONLAB_DATA or ./data, and the bundled sample is missing (run: moonlab data fetch cifar10)"
        )
      }
      let source = try DataSource.make("cifar10", split: split, origin: .bundledSample)
      let ds = try source.load()
      notice(
        "data: no CIFAR-10 under $MOONLAB_DATA or ./data; using the \(ds.count)-image \(split) sample bundled with Moonlab (moonlab data fetch cifar10 gets all 60,000)"
      )
      return (ds, source)
    case "mnist":
      throw DataError("mnist: no MNIST in \(whereTo) (run: moonlab data fetch mnist)")
    default:
      throw DataError("\(dataset): no such dataset in \(whereTo)")
    }
  }

  /// The recorded origin's source, or nil when that folder (or the sample) is gone.
  private static func pinnedSource(_ dataset: String, split: String, _ pinned: DataSource.Origin)
    throws -> DataSource?
  {
    switch pinned {
    case .bundledSample:
      guard dataset == "cifar10", Sample.cifar10Folder() != nil else { return nil }
    case .folder(let f):
      guard isComplete(dataset, f) else { return nil }
    }
    return try DataSource.make(dataset, split: split, origin: pinned)
  }

  public static func describe(_ origin: DataSource.Origin) -> String {
    switch origin {
    case .bundledSample: return "the bundled sample"
    case .folder(let f): return f.path
    }
  }
}

/// The CIFAR-10 sample committed in the repository (Sources/MoonlabData/Sample, built by
/// scripts/make_sample.py): the first 1,000 images of data_batch_1 and of test_batch,
/// gzipped. It ships as a SwiftPM resource folder next to the executable; builds run from
/// a checkout also find it in the source tree.
public enum Sample {
  public static func cifar10Folder() -> URL? {
    var places: [URL] = []
    if let exe = Bundle.main.executableURL?.resolvingSymlinksInPath() {
      places.append(
        exe.deletingLastPathComponent().appendingPathComponent(
          "Moonlab_MoonlabData.resources/Sample/cifar10"))
    }
    places.append(
      URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Sample/cifar10"))
    return places.first {
      FileManager.default.fileExists(atPath: $0.appendingPathComponent("train.bin.gz").path)
    }
  }

  public static func cifar10(split: String, folder: URL) throws -> Dataset {
    guard split == "train" || split == "test" else {
      throw DataError("cifar10: split must be 'train' or 'test', got '\(split)'")
    }
    return try CIFAR10.load(
      files: [folder.appendingPathComponent("\(split).bin.gz")],
      metaFile: folder.appendingPathComponent("batches.meta.txt"))
  }
}
