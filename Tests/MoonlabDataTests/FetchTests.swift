import Foundation
import XCTest

@testable import MoonlabData

/// Acceptance #2: `data fetch` against a local HTTP server serving archives built from
/// the shared data; a good archive installs, a corrupt one leaves nothing behind.
final class FetchTests: XCTestCase {
  /// python3's http.server on 127.0.0.1, on a free port it picks and prints.
  final class Server {
    let process = Process()
    let base: String
    init(serving folder: URL) throws {
      guard
        let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first(where: {
          FileManager.default.isExecutableFile(atPath: $0)
        })
      else {
        throw XCTSkip("python3 is not installed")
      }
      process.executableURL = URL(fileURLWithPath: python)
      process.arguments = [
        "-c",
        """
        import functools, http.server, sys
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
        handler.log_message = lambda *a: None
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """,
        folder.path,
      ]
      let out = Pipe()
      process.standardOutput = out
      try process.run()
      var line = Data()
      while !line.contains(UInt8(ascii: "\n")) {
        let chunk = out.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        line.append(chunk)
      }
      let port = String(decoding: line, as: UTF8.self).trimmingCharacters(
        in: .whitespacesAndNewlines)
      guard Int(port) != nil else { throw XCTSkip("http server did not start") }
      base = "http://127.0.0.1:\(port)/"
    }
    deinit { process.terminate() }
  }

  /// A small cifar-10-binary.tar.gz: the first `records` records of each shared batch.
  func cifarArchive(in folder: URL, records: Int = 20, damage: ((URL) throws -> Void)? = nil) throws
    -> URL
  {
    let shared = try sharedData("cifar10")
    let staging = folder.appendingPathComponent("staging")
    let members = staging.appendingPathComponent("cifar-10-batches-bin")
    try FileManager.default.createDirectory(at: members, withIntermediateDirectories: true)
    for name in Fetch.cifar10Members {
      let data = try Data(contentsOf: shared.appendingPathComponent(name))
      try (name.hasSuffix(".bin") ? data.prefix(records * CIFAR10.recordSize) : data).write(
        to: members.appendingPathComponent(name))
    }
    try damage?(members)
    let archive = folder.appendingPathComponent("cifar-10-binary.tar.gz")
    try runTool("tar", ["czf", archive.path, "-C", staging.path, "cifar-10-batches-bin"])
    return archive
  }

  func digest(_ url: URL) throws -> [String: String] {
    [url.lastPathComponent: MD5.hex(try Data(contentsOf: url))]
  }

  /// Nothing but what was there before: no dataset folder, no temporary folder.
  func assertUntouched(_ root: URL, file: StaticString = #filePath, line: UInt = #line) {
    let left = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
    XCTAssertEqual(left, [], file: file, line: line)
  }

  func testMD5KnownVectors() {
    XCTAssertEqual(MD5.hex(Data()), "d41d8cd98f00b204e9800998ecf8427e")
    XCTAssertEqual(MD5.hex(Data("abc".utf8)), "900150983cd24fb0d6963f7d28e17f72")
    XCTAssertEqual(
      MD5.hex(
        Data(
          "12345678901234567890123456789012345678901234567890123456789012345678901234567890".utf8)),
      "57edf4a22be3c955ac49da2e2107b67a")
  }

  func testGoodCIFARArchiveInstalls() throws {
    let served = try temporaryFolder(self)
    let archive = try cifarArchive(in: served)
    let server = try Server(serving: served)
    let root = try temporaryFolder(self).appendingPathComponent("root")
    var log: [String] = []
    try Fetch.fetch("cifar10", root: root, urlBase: server.base, digests: try digest(archive)) {
      log.append($0)
    }
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.path), ["cifar10"])
    XCTAssertEqual(
      try CIFAR10.load(split: "train", folder: root.appendingPathComponent("cifar10")).count, 100)
    XCTAssertEqual(
      try CIFAR10.load(split: "test", folder: root.appendingPathComponent("cifar10")).count, 20)
    XCTAssertTrue(log.contains { $0.contains("installed in") }, "\(log)")
    // A second fetch finds it and does nothing.
    try Fetch.fetch("cifar10", root: root, urlBase: server.base, digests: try digest(archive)) {
      log.append($0)
    }
    XCTAssertTrue(log.last?.contains("already in") ?? false)
  }

  func testCorruptArchiveIsRefusedAndLeavesNothing() throws {
    let served = try temporaryFolder(self)
    let archive = try cifarArchive(in: served)
    let good = try digest(archive)
    var bytes = try Data(contentsOf: archive)
    for k in stride(from: 100, to: bytes.count - 100, by: 997) { bytes[k] ^= 0x5a }
    try bytes.write(to: archive)
    let server = try Server(serving: served)
    let root = try temporaryFolder(self).appendingPathComponent("root")
    // The digest check catches it…
    XCTAssertThrowsError(
      try Fetch.fetch("cifar10", root: root, urlBase: server.base, digests: good)
    ) { e in
      XCTAssertTrue("\(e)".contains("has MD5"), "\(e)")
    }
    assertUntouched(root)
    // …and with the digest check passed (the corrupt file's own digest), unpacking does.
    try assertRefused(archive, server, root, saying: "cifar-10-binary.tar.gz")
  }

  /// Fetching `archive` (with its own digest) fails with `message` and leaves `root` empty.
  func assertRefused(
    _ archive: URL, _ server: Server, _ root: URL, saying message: String, line: UInt = #line
  ) throws {
    XCTAssertThrowsError(
      try Fetch.fetch("cifar10", root: root, urlBase: server.base, digests: try digest(archive)),
      line: line
    ) { e in
      XCTAssertTrue("\(e)".contains(message), "\(e)", line: line)
    }
    assertUntouched(root, line: line)
  }

  /// An archive whose members are damaged (a truncated batch) fails validation after
  /// unpacking; the temporary folder goes away.
  func testArchiveWithTruncatedBatchLeavesNothing() throws {
    let served = try temporaryFolder(self)
    let archive = try cifarArchive(in: served) { members in
      let url = members.appendingPathComponent("data_batch_3.bin")
      try Data(try Data(contentsOf: url).dropLast(100)).write(to: url)
    }
    let server = try Server(serving: served)
    let root = try temporaryFolder(self).appendingPathComponent("root")
    try assertRefused(archive, server, root, saying: "data_batch_3.bin")
  }

  func testMissingFileOnServer() throws {
    let server = try Server(serving: try temporaryFolder(self))
    let root = try temporaryFolder(self).appendingPathComponent("root")
    XCTAssertThrowsError(try Fetch.fetch("mnist", root: root, urlBase: server.base)) { e in
      XCTAssertTrue(
        "\(e)".contains("could not download train-images-idx3-ubyte.gz") && "\(e)".contains("404"),
        "\(e)")
    }
    assertUntouched(root)
  }

  /// Downloads go through libcurl, loaded on first use (Sources/HTTPGet): a refused
  /// connection, a scheme other than http(s) and a body over the limit are errors that say so.
  func testDownloadErrorsSayWhy() throws {
    let served = try temporaryFolder(self)
    try Data(count: 3000).write(to: served.appendingPathComponent("big.bin"))
    let server = try Server(serving: served)
    let url = URL(string: server.base + "big.bin")!
    XCTAssertEqual(try Fetch.get(url, limit: 3000).count, 3000)
    XCTAssertThrowsError(try Fetch.get(url, limit: 2999)) { e in
      XCTAssertTrue("\(e)".contains("larger than 2999 bytes"), "\(e)")
    }
    XCTAssertThrowsError(try Fetch.get(URL(string: "file:///etc/hostname")!)) { e in
      XCTAssertTrue("\(e)".contains("file"), "\(e)")
    }
    // Port 1 on the loopback: nothing listens there.
    XCTAssertThrowsError(try Fetch.get(URL(string: "http://127.0.0.1:1/x")!)) { e in
      XCTAssertTrue("\(e)".lowercased().contains("connect"), "\(e)")
    }
  }

  func testMNISTInstalls() throws {
    let shared = try sharedData("mnist")
    let server = try Server(serving: shared)
    let root = try temporaryFolder(self).appendingPathComponent("root")
    var digests: [String: String] = [:]
    for name in MNIST.fileNames {
      digests.merge(try digest(shared.appendingPathComponent(name + ".gz"))) { a, _ in a }
    }
    try Fetch.fetch("mnist", root: root, urlBase: server.base, digests: digests)
    XCTAssertEqual(
      try MNIST.load(split: "test", folder: root.appendingPathComponent("mnist")).count, 10_000)
  }

  /// Tar entries with absolute paths or ".." are refused.
  func testTarPathTraversalIsRefused() throws {
    func header(_ name: String, size: Int) -> Data {
      var h = [UInt8](repeating: 0, count: 512)
      for (i, b) in name.utf8.enumerated() { h[i] = b }
      for (i, b) in String(format: "%011o", size).utf8.enumerated() { h[124 + i] = b }
      h[156] = UInt8(ascii: "0")
      for i in 148..<156 { h[i] = 32 }
      let sum = h.reduce(0) { $0 + Int($1) }
      for (i, b) in String(format: "%06o", sum).utf8.enumerated() { h[148 + i] = b }
      h[154] = 0
      return Data(h)
    }
    func archive(_ name: String) -> Data {
      header(name, size: 3) + Data([1, 2, 3] + [UInt8](repeating: 0, count: 509 + 1024))
    }
    XCTAssertEqual(try Tar.entries(archive("a/b.bin"), what: "t").map(\.path), ["a/b.bin"])
    for bad in ["../evil.bin", "/etc/evil", "a/../../evil"] {
      XCTAssertThrowsError(try Tar.entries(archive(bad), what: "t")) { e in
        XCTAssertTrue("\(e)".contains("unsafe path"), "\(e)")
      }
    }
    var corrupt = archive("a/b.bin")
    corrupt[10] ^= 1
    XCTAssertThrowsError(try Tar.entries(corrupt, what: "t")) { e in
      XCTAssertTrue("\(e)".contains("checksum"))
    }
    XCTAssertThrowsError(try Tar.entries(archive("a/b.bin").prefix(600), what: "t"))
  }
}
