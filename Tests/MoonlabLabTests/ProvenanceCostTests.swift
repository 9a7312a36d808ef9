import Foundation
import MoonlabData
import TestSupport
import XCTest

@testable import MoonlabLab

/// Issue 16's cost target, measured on the full CIFAR-10 (bench/README.md, "Provenance
/// cost"): what recording a dataset adds when it is opened the first time (every file
/// hashed) and again in a later run (the hash cache loaded from disk, each file stat'ed).
final class ProvenanceCostTests: XCTestCase {
  func testOpeningTheFullCIFAR10AgainAddsUnder50ms() throws {
    guard let root = TestPaths.data,
      let folder = DataRoot.folder("cifar10", root: root.path)
    else { throw XCTSkip("no full CIFAR-10 under $MOONLAB_DATA or ../shared/data") }
    let sources = try ["train", "test"].map {
      try DataSource.make("cifar10", split: $0, origin: .folder(folder))
    }
    let cache = try TestPaths.temporaryDirectory().appendingPathComponent("moonlab/sha256.json")

    /// What LabSession does per dataset: look up or hash every file, save the cache.
    func record() throws -> (seconds: Double, json: [JSON]) {
      let start = DispatchTime.now().uptimeNanoseconds
      let digests = FileDigests(cacheFile: cache)
      let json = try sources.map { try DatasetRecord.json($0, digests: digests) }
      digests.save()
      return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, json)
    }
    let first = try record()
    var warm: [Double] = []
    for _ in 0..<5 {
      let again = try record()
      XCTAssertEqual(again.json, first.json)
      warm.append(again.seconds)
    }
    let median = warm.sorted()[2]
    let bytes = first.json.flatMap { $0["files"]?.items ?? [] }.compactMap { $0["bytes"]?.double }
      .reduce(0, +)
    print(
      String(
        format:
          "provenance_cifar10: first open %.0f ms (%.0f MB hashed, %.0f MB/s), cache hit %.2f ms (median of 5)",
        first.seconds * 1000, bytes / 1e6, bytes / 1e6 / first.seconds, median * 1000))
    XCTAssertLessThan(median, 0.050)
  }
}
