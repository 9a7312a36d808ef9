import Foundation
import XCTest

@testable import MoonlabData

/// Which files a dataset is read from, and a rerun's pinned source (docs/lab.md,
/// "Provenance").
final class DataSourceTests: XCTestCase {
  /// A root with a complete made-up CIFAR-10 of two records per batch file.
  func fullRoot() throws -> URL {
    let root = try temporaryFolder(self)
    let folder = root.appendingPathComponent("cifar10")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let batch = Data(
      [3] + [UInt8](repeating: 9, count: 3072) + [4] + [UInt8](repeating: 1, count: 3072))
    for name in (1...5).map({ "data_batch_\($0).bin" }) + ["test_batch.bin"] {
      try batch.write(to: folder.appendingPathComponent(name))
    }
    return root
  }

  func testSourcesNameTheFilesTheReaderOpens() throws {
    let root = try fullRoot()
    let folder = root.appendingPathComponent("cifar10")
    let (train, source) = try DataRoot.open("cifar10", split: "train", root: nil, defaults: [root])
    XCTAssertEqual(train.count, 10)
    XCTAssertEqual(source.origin, .folder(folder))
    XCTAssertEqual(source.files.map(\.lastPathComponent), (1...5).map { "data_batch_\($0).bin" })
    // The class-name file counts once it is there.
    try "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n".write(
      to: folder.appendingPathComponent("batches.meta.txt"), atomically: true, encoding: .utf8)
    XCTAssertEqual(
      try DataRoot.open("cifar10", split: "test", root: nil, defaults: [root]).source.files.map(
        \.lastPathComponent), ["test_batch.bin", "batches.meta.txt"])

    let (_, sample) = try DataRoot.open("cifar10", split: "test", root: nil, defaults: [])
    XCTAssertEqual(sample.origin, .bundledSample)
    XCTAssertEqual(sample.files.map(\.lastPathComponent), ["test.bin.gz", "batches.meta.txt"])
  }

  /// A rerun of a run made on the sample reads the sample although a full root is there;
  /// a pinned folder that is gone falls back to the default roots and says so; an explicit
  /// root= wins over the pin.
  func testPinnedSourcesWin() throws {
    let root = try fullRoot()
    var said: [String] = []
    let (ds, source) = try DataRoot.open(
      "cifar10", split: "test", root: nil, pinned: .bundledSample, defaults: [root],
      notice: { said.append($0) })
    XCTAssertEqual(source.origin, .bundledSample)
    XCTAssertEqual(ds.count, 1000)
    XCTAssertEqual(
      said, ["data: cifar10 test: reading the bundled sample, as the recorded run did"])

    said = []
    let gone = root.appendingPathComponent("moved/cifar10")
    let fallback = try DataRoot.open(
      "cifar10", split: "test", root: nil, pinned: .folder(gone), defaults: [root],
      notice: { said.append($0) })
    XCTAssertEqual(fallback.source.origin, .folder(root.appendingPathComponent("cifar10")))
    XCTAssertEqual(
      said,
      [
        "data: cifar10 test: the recorded source (\(gone.path)) is missing or incomplete; reading the default one"
      ])

    let explicit = try DataRoot.open(
      "cifar10", split: "test", root: root.path, pinned: .bundledSample, defaults: [])
    XCTAssertEqual(explicit.dataset.count, 2)
  }
}
