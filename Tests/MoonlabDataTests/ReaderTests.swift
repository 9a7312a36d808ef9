import Foundation
import XCTest

@testable import MoonlabData

/// Acceptance #1: counts of the real sets, and errors that name the bad file.
final class ReaderTests: XCTestCase {
  func testCIFAR10CountsPerClass() throws {
    let folder = try sharedData("cifar10")
    let train = try CIFAR10.load(split: "train", folder: folder)
    XCTAssertEqual(train.count, 50_000)
    XCTAssertEqual(train.classCounts(), [Int](repeating: 5_000, count: 10))
    XCTAssertEqual(train.sampleShape, [3, 32, 32])
    XCTAssertEqual(train.classes, CIFAR10.defaultClasses)
    // README: official order, first labels 6 9 9 4 1 1 2 7 8 3.
    XCTAssertEqual(
      try (0..<10).map { Int(try train.get($0).y.item()) }, [6, 9, 9, 4, 1, 1, 2, 7, 8, 3])
    let test = try CIFAR10.load(split: "test", folder: folder)
    XCTAssertEqual(test.count, 10_000)
    XCTAssertEqual(test.classCounts(), [Int](repeating: 1_000, count: 10))
  }

  func testMNISTCountsPerDigit() throws {
    let folder = try sharedData("mnist")
    let train = try MNIST.load(split: "train", folder: folder)
    XCTAssertEqual(train.sampleShape, [1, 28, 28])
    XCTAssertEqual(
      train.classCounts(), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    XCTAssertEqual(try (0..<5).map { Int(try train.get($0).y.item()) }, [5, 0, 4, 1, 9])
    let test = try MNIST.load(split: "test", folder: folder)
    XCTAssertEqual(test.classCounts(), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    XCTAssertEqual(try (0..<5).map { Int(try test.get($0).y.item()) }, [7, 2, 1, 0, 4])
  }

  func testPixelsScaleToUnitInterval() throws {
    var bytes = [UInt8](repeating: 0, count: 3 * 32 * 32)
    bytes[0] = 255
    bytes[1] = 51
    let ds = try Dataset(
      name: "t", sampleShape: [3, 32, 32], storage: .bytes(bytes), targets: [3], classes: nil)
    let (x, y) = try ds.get(0)
    XCTAssertEqual(x.data[0], 1)
    XCTAssertEqual(x.data[1], 0.2)
    XCTAssertEqual(y.shape, [])
    XCTAssertEqual(y.data[0], 3)
  }

  func testBundledSampleHasBothSplits() throws {
    let folder = try XCTUnwrap(Sample.cifar10Folder())
    let train = try Sample.cifar10(split: "train", folder: folder)
    let test = try Sample.cifar10(split: "test", folder: folder)
    XCTAssertEqual(train.count, 1000)
    XCTAssertEqual(test.count, 1000)
    XCTAssertTrue(train.classCounts().allSatisfy { $0 >= 75 })
    XCTAssertTrue(test.classCounts().allSatisfy { $0 >= 75 })
    let size = try FileManager.default.contentsOfDirectory(
      at: folder, includingPropertiesForKeys: [.fileSizeKey]
    )
    .map { try $0.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0 }.reduce(0, +)
    XCTAssertLessThanOrEqual(size, 8 << 20)
  }

  /// Without CIFAR-10 in the default roots the bundled sample stands in; an explicit root
  /// never falls back.
  func testDefaultRootFallsBackToTheSample() throws {
    let empty = try temporaryFolder(self)
    XCTAssertEqual(try DataRoot.cifar10(split: "test", root: nil, defaults: [empty]).count, 1000)
    XCTAssertThrowsError(try DataRoot.cifar10(split: "test", root: empty.path, defaults: [])) { e in
      XCTAssertTrue("\(e)".contains("no CIFAR-10 in \(empty.path)/cifar10"), "\(e)")
    }
    let shared = try sharedData("cifar10").deletingLastPathComponent()
    XCTAssertEqual(
      try DataRoot.cifar10(split: "test", root: nil, defaults: [empty, shared]).count, 10_000)
  }

  // MARK: Bad files

  func record(label: UInt8) -> [UInt8] { [label] + [UInt8](repeating: 7, count: 3072) }

  /// The DataError message `body` throws ("" and a failure when it doesn't).
  func dataError(_ body: () throws -> Void) -> String {
    do {
      try body()
    } catch let e as DataError {
      return e.message
    } catch {
      XCTFail("not a DataError: \(error)")
    }
    XCTFail("no error")
    return ""
  }

  func cifarError(_ bytes: [UInt8], _ test: XCTestCase) throws -> String {
    let folder = try temporaryFolder(test)
    try Data(bytes).write(to: folder.appendingPathComponent("test_batch.bin"))
    return dataError { _ = try CIFAR10.load(split: "test", folder: folder) }
  }

  func testCIFARTruncatedAndBadLabel() throws {
    let truncated = try cifarError(record(label: 1) + record(label: 2).dropLast(10), self)
    XCTAssertTrue(
      truncated.contains("test_batch.bin")
        && truncated.contains("not a whole number of 3073-byte records"), truncated)
    let badLabel = try cifarError(record(label: 1) + record(label: 12), self)
    XCTAssertTrue(badLabel.contains("test_batch.bin: record 2 has label byte 12"), badLabel)
    let empty = try cifarError([], self)
    XCTAssertTrue(empty.contains("test_batch.bin"), empty)
  }

  /// batches.meta.txt must be ten lines of short text: random bytes are refused, not
  /// replaced by the standard names.
  func testCIFARMetaFileOfRandomBytes() throws {
    let folder = try temporaryFolder(self)
    try Data(record(label: 1)).write(to: folder.appendingPathComponent("test_batch.bin"))
    let meta = folder.appendingPathComponent("batches.meta.txt")
    var gen = SystemRandomNumberGenerator()
    try Data((0..<4096).map { _ in UInt8.random(in: 0...255, using: &gen) }).write(to: meta)
    XCTAssertThrowsError(try CIFAR10.load(split: "test", folder: folder)) { e in
      XCTAssertTrue("\(e)".contains("batches.meta.txt: not a text file of class names"), "\(e)")
    }
    try ((0..<10).map { "class\($0)" }.joined(separator: "\n") + "\n").write(
      to: meta, atomically: true, encoding: .utf8)
    XCTAssertEqual(try CIFAR10.load(split: "test", folder: folder).classes?[9], "class9")
  }

  func testCIFARMissingFileIsNamed() throws {
    let folder = try temporaryFolder(self)
    XCTAssertThrowsError(try CIFAR10.load(split: "train", folder: folder)) { e in
      XCTAssertTrue("\(e)".contains("data_batch_1.bin is missing"), "\(e)")
    }
  }

  /// IDX bytes: magic, sizes, payload.
  func idx(_ magic: UInt32, _ sizes: [UInt32], _ payload: [UInt8]) -> Data {
    var d = Data()
    for w in [magic] + sizes {
      d.append(contentsOf: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: w >> $0) })
    }
    d.append(contentsOf: payload)
    return d
  }

  func mnistError(images: Data, labels: Data, gzipImages: Bool = false) throws -> String {
    let folder = try temporaryFolder(self)
    let imageURL = folder.appendingPathComponent("t10k-images-idx3-ubyte")
    try images.write(to: imageURL)
    if gzipImages { try runTool("gzip", ["-f", imageURL.path]) }
    try labels.write(to: folder.appendingPathComponent("t10k-labels-idx1-ubyte"))
    return dataError { _ = try MNIST.load(split: "test", folder: folder) }
  }

  func testMNISTBadFiles() throws {
    let two = [UInt8](repeating: 1, count: 2 * 28 * 28)
    let goodImages = idx(0x803, [2, 28, 28], two)
    let goodLabels = idx(0x801, [2], [3, 4])
    let magic = try mnistError(images: idx(0x801, [2, 28, 28], two), labels: goodLabels)
    XCTAssertTrue(
      magic.contains("t10k-images-idx3-ubyte: wrong magic number 0x801, expected 0x803"), magic)
    let truncated = try mnistError(images: goodImages.dropLast(5), labels: goodLabels)
    XCTAssertTrue(
      truncated.contains("t10k-images-idx3-ubyte") && truncated.contains("truncated"), truncated)
    let mismatch = try mnistError(images: goodImages, labels: idx(0x801, [3], [1, 2, 3]))
    XCTAssertTrue(
      mismatch.contains("has 3 labels but t10k-images-idx3-ubyte has 2 images"), mismatch)
    let shortLabels = try mnistError(images: goodImages, labels: idx(0x801, [2], [1]))
    XCTAssertTrue(
      shortLabels.contains("t10k-labels-idx1-ubyte") && shortLabels.contains("truncated"),
      shortLabels)
    let badLabel = try mnistError(images: goodImages, labels: idx(0x801, [2], [1, 10]))
    XCTAssertTrue(badLabel.contains("label 2 is 10"), badLabel)
  }

  func testMNISTGzippedAndCorruptGzip() throws {
    let folder = try temporaryFolder(self)
    let images = folder.appendingPathComponent("t10k-images-idx3-ubyte")
    try idx(0x803, [1, 28, 28], [UInt8](repeating: 255, count: 784)).write(to: images)
    try runTool("gzip", ["-f", images.path])
    try idx(0x801, [1], [9]).write(to: folder.appendingPathComponent("t10k-labels-idx1-ubyte"))
    let ds = try MNIST.load(split: "test", folder: folder)
    XCTAssertEqual(ds.count, 1)
    XCTAssertEqual(try ds.get(0).x.toArray()[100], 1)
    // Garbage after the gzip stream.
    let gz = folder.appendingPathComponent("t10k-images-idx3-ubyte.gz")
    let whole = try Data(contentsOf: gz)
    try (whole + Data("junk".utf8)).write(to: gz)
    XCTAssertThrowsError(try MNIST.load(split: "test", folder: folder)) { e in
      XCTAssertTrue(
        "\(e)".contains(
          "t10k-images-idx3-ubyte.gz: 4 bytes of trailing data after the gzip stream"),
        "\(e)")
    }
    // Cut the gzip stream short.
    try Data(whole.prefix(20)).write(to: gz)
    XCTAssertThrowsError(try MNIST.load(split: "test", folder: folder)) { e in
      XCTAssertTrue("\(e)".contains("t10k-images-idx3-ubyte.gz: gzip data is"), "\(e)")
    }
  }
}
