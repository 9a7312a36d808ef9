import Foundation
import MoonlabData
import MoonlabLua
import MoonlabTensor
import TestSupport
import XCTest

@testable import MoonlabLab

/// config.json's provenance (docs/lab.md, "Provenance"): datasets with their files'
/// hashes, the script's git state, build, OpenBLAS and CPU; the hash cache behind it.
final class ProvenanceTests: XCTestCase {
  func testConfigRecordsDataScriptGitBuildAndMachine() throws {
    let folder = try TestPaths.temporaryDirectory()
    let repo = folder.appendingPathComponent("repo")
    try FileManager.default.createDirectory(at: repo, withIntermediateDirectories: true)
    try DataFixtures.mnist(in: folder.appendingPathComponent("data"))
    let script = try writeScript(
      "local ds = data.mnist{split = 'train'}\nlab.log{step = 1, n = #ds}\n", "count.lua",
      in: repo)
    try "notes\n".write(
      to: repo.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
    try git(["init", "-q"], in: repo)
    try git(["add", "count.lua", "notes.txt"], in: repo)
    try git(
      ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "x"], in: repo)
    let commit = try git(["rev-parse", "HEAD"], in: repo).trimmingCharacters(
      in: .whitespacesAndNewlines)

    let env = [
      "MOONLAB_DATA": folder.appendingPathComponent("data").path,
      "XDG_CACHE_HOME": folder.appendingPathComponent("cache").path,
    ]
    // Clean tree: the commit, not dirty, no diff.
    let clean = try runMoonlab(
      ["run", script, "--threads", "2", "--out", "clean"], in: folder, environment: env)
    XCTAssertEqual(clean.status, 0, clean.output)
    var config = try JSON.parse(read(folder.appendingPathComponent("clean/config.json")))
    XCTAssertEqual(config["script"]?["git"]?["commit"]?.text, commit)
    XCTAssertEqual(config["script"]?["git"]?["dirty"], .bool(false))
    XCTAssertEqual(config["script"]?["git"]?["script_tracked"], .bool(true))
    XCTAssertNil(config["script"]?["git"]?["diff"])
    XCTAssertFalse(exists(folder.appendingPathComponent("clean"), "git.diff"))

    // Each field of the schema.
    XCTAssertEqual(
      config["script"]?["sha256"]?.text,
      SHA256.hex(try Data(contentsOf: URL(fileURLWithPath: script))))
    XCTAssertEqual(config["threads"], .number(2))
    XCTAssertEqual(config["argv"]?.items?.dropFirst().first, .string("run"))
    XCTAssertEqual(config["build"]?["kernels"]?.text, KernelBuild.name)
    XCTAssertEqual(config["build"]?["version"]?.text, MoonlabVersion.string)
    XCTAssertNotNil(config["build"]?["configuration"]?.text)
    XCTAssertFalse(config["openblas"]?["core"]?.text?.isEmpty ?? true, "\(config)")
    XCTAssertTrue(config["openblas"]?["config"]?.text?.hasPrefix("OpenBLAS") ?? false, "\(config)")
    XCTAssertNotNil(config["cpu"]?["model"]?.text)
    XCTAssertTrue(
      config["cpu"]?["flags"]?.text?.split(separator: " ").contains("sse2") ?? false, "\(config)")
    let dataset = try XCTUnwrap(config["datasets"]?.items?.first)
    let mnist = folder.appendingPathComponent("data/mnist").standardizedFileURL
    XCTAssertEqual(dataset["name"], .string("mnist"))
    XCTAssertEqual(dataset["split"], .string("train"))
    XCTAssertEqual(dataset["source"]?.text, mnist.path)
    let files = try XCTUnwrap(dataset["files"]?.items)
    XCTAssertEqual(
      files.compactMap { $0["name"]?.text }, ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"])
    for f in files {
      let bytes = try Data(contentsOf: mnist.appendingPathComponent(f["name"]?.text ?? ""))
      XCTAssertEqual(f["sha256"]?.text, SHA256.hex(bytes))
      XCTAssertEqual(f["bytes"], .number(Double(bytes.count)))
    }

    // A changed tracked file: dirty, and the diff saved beside the record.
    try "notes, edited\n".write(
      to: repo.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
    let dirty = try runMoonlab(["run", script, "--out", "dirty"], in: folder, environment: env)
    XCTAssertEqual(dirty.status, 0, dirty.output)
    config = try JSON.parse(read(folder.appendingPathComponent("dirty/config.json")))
    XCTAssertEqual(config["script"]?["git"]?["dirty"], .bool(true))
    XCTAssertEqual(config["script"]?["git"]?["diff"], .string("git.diff"))
    XCTAssertTrue(
      read(folder.appendingPathComponent("dirty/git.diff")).contains("+notes, edited"))

    // Outside a work tree: no git field.
    let loose = try writeScript("lab.log{step = 1}", "loose.lua", in: folder)
    XCTAssertEqual(
      try runMoonlab(["run", loose, "--out", "loose"], in: folder, environment: env).status, 0)
    config = try JSON.parse(read(folder.appendingPathComponent("loose/config.json")))
    XCTAssertNil(config["script"]?["git"])
    XCTAssertEqual(config["datasets"], .array([]))
  }

  /// The datasets are in config.json as soon as they are opened: a run killed with
  /// SIGKILL afterwards still says what it read.
  func testAKilledRunStillNamesItsData() throws {
    let folder = try TestPaths.temporaryDirectory()
    try DataFixtures.mnist(in: folder.appendingPathComponent("data"))
    try writeScript(
      "local ds = data.mnist{split = 'test'}\nprint('opened')\nwhile true do end\n", "spin.lua",
      in: folder)
    let log = folder.appendingPathComponent("log")
    FileManager.default.createFile(atPath: log.path, contents: nil)
    let p = Process()
    p.executableURL = try moonlabBinary()
    p.arguments = ["run", "spin.lua", "--out", "a"]
    p.currentDirectoryURL = folder
    p.environment = ProcessInfo.processInfo.environment.merging([
      "MOONLAB_DATA": folder.appendingPathComponent("data").path,
      "XDG_CACHE_HOME": folder.appendingPathComponent("cache").path,
    ]) { $1 }
    p.standardOutput = try FileHandle(forWritingTo: log)
    p.standardError = FileHandle.nullDevice
    try p.run()
    let deadline = Date(timeIntervalSinceNow: 30)
    while !read(log).contains("opened"), Date() < deadline { usleep(20_000) }
    kill(p.processIdentifier, SIGKILL)
    p.waitUntilExit()
    XCTAssertTrue(read(log).contains("opened"), read(log))
    let config = try JSON.parse(read(folder.appendingPathComponent("a/config.json")))
    XCTAssertEqual(config["status"], .string("running"))
    XCTAssertEqual(
      config["datasets"]?.items?.first?["files"]?.items?.compactMap { $0["name"]?.text },
      ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"])
  }

  /// Under `moonlab run`, a sweep trial that opens data records it in the trial's
  /// config.json, and the run's own record gets it too once the sweep is over.
  func testSweepTrialsRecordTheirData() throws {
    let folder = try TestPaths.temporaryDirectory()
    try DataFixtures.mnist(in: folder.appendingPathComponent("data"))
    try writeScript(
      """
      lab.sweep{name = "s", grid = {a = {1, 2}}, metric = "n", run = function(cfg)
        return {n = #data.mnist{split = 'test'} * cfg.a}
      end}
      """, "sweep.lua", in: folder)
    let env = [
      "MOONLAB_DATA": folder.appendingPathComponent("data").path,
      "XDG_CACHE_HOME": folder.appendingPathComponent("cache").path,
    ]
    let r = try runMoonlab(["run", "sweep.lua", "--out", "run"], in: folder, environment: env)
    XCTAssertEqual(r.status, 0, r.output)
    let run = folder.appendingPathComponent("run")
    let configs = (FileManager.default.enumerator(atPath: run.path)?.allObjects as? [String] ?? [])
      .filter { $0.hasSuffix("config.json") }
    XCTAssertGreaterThanOrEqual(configs.count, 3, "\(configs)")
    for path in configs where path.split(separator: "/").count == 4 || path == "config.json" {
      let config = try JSON.parse(read(run.appendingPathComponent(path)))
      XCTAssertEqual(
        config["datasets"]?.items?.compactMap { $0["split"]?.text }, ["test"], path)
    }
  }

  func testSHA256MatchesKnownDigestsInAnyPieces() throws {
    XCTAssertEqual(
      SHA256.hex(Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    XCTAssertEqual(
      SHA256.hex(Data("abc".utf8)),
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    XCTAssertEqual(
      SHA256.hex(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    // Streaming in uneven pieces gives the one-shot digest (block and padding edges).
    var g = SystemRandomNumberGenerator()
    for length in [0, 1, 55, 56, 63, 64, 65, 127, 128, 1000, 4097] {
      let bytes = Data((0..<length).map { _ in UInt8.random(in: 0...255, using: &g) })
      var s = SHA256()
      var offset = 0
      while offset < bytes.count {
        let n = min(Int.random(in: 1...70, using: &g), bytes.count - offset)
        bytes[offset..<offset + n].withUnsafeBytes { s.update($0) }
        offset += n
      }
      XCTAssertEqual(s.finish(), SHA256.hex(bytes), "length \(length)")
      let file = try TestPaths.temporaryDirectory().appendingPathComponent("f")
      try bytes.write(to: file)
      let d = try SHA256.file(file)
      XCTAssertEqual(d.hex, SHA256.hex(bytes))
      XCTAssertEqual(d.bytes, length)
    }
  }

  /// A remembered hash is used while path, size, mtime and inode hold (proved by changing
  /// the content behind its back), dropped when the mtime moves, and a damaged cache
  /// file is ignored and rewritten.
  func testHashCacheIsKeyedByStampAndSurvivesDamage() throws {
    let folder = try TestPaths.temporaryDirectory()
    let cache = folder.appendingPathComponent("cache/moonlab/sha256.json")
    let file = folder.appendingPathComponent("batch.bin")
    try Data(repeating: 1, count: 5000).write(to: file)
    let old = Date(timeIntervalSinceNow: -3600)
    try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: file.path)
    let remembering = FileDigests(cacheFile: cache)
    let first = try remembering.digest(file)
    remembering.save()
    XCTAssertEqual(first.sha256, SHA256.hex(Data(repeating: 1, count: 5000)))

    // Same size and mtime, written in place (same inode): a new instance trusts the cache.
    let digests = FileDigests(cacheFile: cache)
    let handle = try FileHandle(forWritingTo: file)
    try handle.write(contentsOf: Data(repeating: 2, count: 5000))
    try handle.close()
    try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: file.path)
    XCTAssertEqual(try digests.digest(file), first)
    // The mtime moved: hashed again.
    try DataFixtures.age(file, seconds: 1800)
    XCTAssertEqual(try digests.digest(file).sha256, SHA256.hex(Data(repeating: 2, count: 5000)))
    digests.save()

    // A file modified just now is hashed but not remembered (it may change again within
    // the same timestamp tick).
    let fresh = folder.appendingPathComponent("fresh.bin")
    try Data([1, 2, 3]).write(to: fresh)
    let d = FileDigests(cacheFile: cache)
    _ = try d.digest(fresh)
    d.save()
    XCTAssertFalse(read(cache).contains("fresh.bin"), read(cache))
    XCTAssertTrue(read(cache).contains("batch.bin"), read(cache))

    for junk in ["{not json", #"{"version": 1, "files": {"x": 3}}"#, "", #"{"version": 99}"#] {
      try junk.write(to: cache, atomically: true, encoding: .utf8)
      let again = FileDigests(cacheFile: cache)
      XCTAssertEqual(
        try again.digest(file).sha256, SHA256.hex(Data(repeating: 2, count: 5000)), junk)
      again.save()
      XCTAssertNotNil(try JSON.read(cache)?["files"]?[file.standardizedFileURL.path], junk)
    }
    // No cache folder at all (no HOME): digests still work.
    XCTAssertNil(FileDigests.defaultCacheFile(environment: [:]))
    XCTAssertEqual(try FileDigests(cacheFile: nil).digest(fresh).bytes, 3)
    XCTAssertEqual(
      FileDigests.defaultCacheFile(environment: ["XDG_CACHE_HOME": "/c", "HOME": "/h"])?.path,
      "/c/moonlab/sha256.json")
    XCTAssertEqual(
      FileDigests.defaultCacheFile(environment: ["HOME": "/h"])?.path,
      "/h/.cache/moonlab/sha256.json")
  }

  @discardableResult
  private func git(_ arguments: [String], in dir: URL) throws -> String {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/git") else {
      throw XCTSkip("git is not installed")
    }
    let r = try runProcess(
      URL(fileURLWithPath: "/usr/bin/git"), arguments, currentDirectory: dir)
    guard r.status == 0 else { throw XCTSkip("git \(arguments.first ?? "") failed: \(r.stderr)") }
    return r.stdout
  }
}
