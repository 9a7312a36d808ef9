import Foundation
import HTTPGet
import MoonlabTensor

/// `moonlab data fetch cifar10|mnist`: downloads the official files, checks their MD5
/// digests, unpacks into a temporary folder inside the data root, validates what was
/// unpacked with the readers, and only then renames the folder into place. A failure at
/// any step removes the temporary folder: the root never holds a half-written dataset.
public enum Fetch {
  /// The official CIFAR-10 binary archive and its MD5, as published on the dataset's page
  /// (https://www.cs.toronto.edu/~kriz/cifar.html) and used by loaders built on it.
  public static let cifar10Base = "https://www.cs.toronto.edu/~kriz/"
  public static let cifar10Archive = "cifar-10-binary.tar.gz"
  /// MNIST mirrors and MD5s as torchvision lists them (torchvision/datasets/mnist.py).
  public static let mnistMirrors = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/",
  ]
  public static let officialDigests = [
    "cifar-10-binary.tar.gz": "c32a1d4ab5d03f1284b67883e8d87530",
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
  ]
  static let cifar10Members =
    (1...5).map { "data_batch_\($0).bin" } + ["test_batch.bin", "batches.meta.txt"]

  /// Fetches `dataset` into `root`/`dataset`. `urlBase` replaces the official host (a
  /// mirror, or a local server in tests); `digests` replaces the official MD5s (tests
  /// serve their own small archives). Progress lines go to `log`.
  public static func fetch(
    _ dataset: String, root: URL, urlBase: String? = nil,
    digests: [String: String] = officialDigests,
    log: (String) -> Void = { _ in }
  ) throws {
    guard dataset == "cifar10" || dataset == "mnist" else {
      throw DataError("data fetch: unknown dataset '\(dataset)' (expected cifar10 or mnist)")
    }
    let fm = FileManager.default
    let target = root.appendingPathComponent(dataset)
    if DataRoot.isComplete(dataset, target) {
      log("\(dataset): already in \(target.path)")
      return
    }
    guard !fm.fileExists(atPath: target.path) else {
      throw DataError(
        "data fetch: \(target.path) exists but is incomplete; remove it and fetch again")
    }
    try Folder.create(root)
    let temp = root.appendingPathComponent(".\(dataset).fetch-\(getpid())")
    try? fm.removeItem(at: temp)
    try fm.createDirectory(at: temp, withIntermediateDirectories: false)
    do {
      if dataset == "cifar10" {
        let archive = try download(
          cifar10Archive, bases: [urlBase ?? cifar10Base], digests: digests, log: log)
        try unpackCIFAR10(archive, into: temp)
        for split in ["train", "test"] {
          let ds = try CIFAR10.load(split: split, folder: temp)
          log("cifar10: \(split) has \(ds.count) images")
        }
      } else {
        for name in MNIST.fileNames.map({ $0 + ".gz" }) {
          let data = try download(
            name, bases: urlBase.map { [$0] } ?? mnistMirrors, digests: digests, log: log)
          try data.write(to: temp.appendingPathComponent(name))
        }
        for split in ["train", "test"] {
          let ds = try MNIST.load(split: split, folder: temp)
          log("mnist: \(split) has \(ds.count) images")
        }
      }
      guard rename(temp.path, target.path) == 0 else {
        throw DataError(
          "data fetch: can't move \(temp.path) to \(target.path): \(String(cString: strerror(errno)))"
        )
      }
    } catch {
      try? fm.removeItem(at: temp)
      throw error
    }
    log("\(dataset): installed in \(target.path)")
  }

  /// Downloads `file` from the first base that serves it and checks its MD5.
  static func download(
    _ file: String, bases: [String], digests: [String: String], log: (String) -> Void
  ) throws -> Data {
    var failures: [String] = []
    for base in bases {
      let urlText = base.hasSuffix("/") ? base + file : base + "/" + file
      guard let url = URL(string: urlText) else {
        failures.append("\(urlText): not a URL")
        continue
      }
      log("downloading \(urlText)")
      let data: Data
      do {
        data = try get(url)
      } catch {
        failures.append("\(urlText): \(error)")
        continue
      }
      guard let expected = digests[file] else {
        throw DataError("data fetch: no digest known for \(file)")
      }
      let actual = MD5.hex(data)
      guard actual == expected else {
        throw DataError(
          "data fetch: \(file) from \(urlText) has MD5 \(actual), expected \(expected) (corrupt or wrong file); nothing installed"
        )
      }
      return data
    }
    throw DataError("data fetch: could not download \(file): " + failures.joined(separator: "; "))
  }

  /// The largest download accepted: the CIFAR-10 archive is 163 MiB.
  static let maxDownloadBytes = 1 << 30

  /// A blocking HTTP(S) GET that fails on any status but 200 (libcurl, loaded on first
  /// use: Sources/HTTPGet).
  static func get(_ url: URL, limit: Int = maxDownloadBytes) throws -> Data {
    var response = moonlab_http_response()
    var error = [CChar](repeating: 0, count: 512)
    guard moonlab_http_get(url.absoluteString, limit, &response, &error, error.count) == 0 else {
      throw DataError(String(cString: error))
    }
    let data =
      response.data.map {
        Data(bytesNoCopy: $0, count: response.length, deallocator: .free)
      } ?? Data()
    guard response.status == 200 else { throw DataError("HTTP status \(response.status)") }
    return data
  }

  /// Writes the archive's CIFAR-10 members (by file name, wherever they sit in the
  /// archive: officially cifar-10-batches-bin/) into `folder`.
  static func unpackCIFAR10(_ archive: Data, into folder: URL) throws {
    let what = "data fetch: \(cifar10Archive)"
    let tar = try Gzip.decompress(archive, what: what, limit: 1 << 31)
    var found = Set<String>()
    for entry in try Tar.entries(tar, what: what) {
      let name = (entry.path as NSString).lastPathComponent
      guard cifar10Members.contains(name), !found.contains(name) else { continue }
      found.insert(name)
      try entry.contents.write(to: folder.appendingPathComponent(name))
    }
    let missing = cifar10Members.filter { !found.contains($0) }
    guard missing.isEmpty else {
      throw DataError("\(what): archive lacks \(missing.joined(separator: ", "))")
    }
  }
}
