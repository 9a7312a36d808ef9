import Foundation
import MoonlabData
import MoonlabTensor
import TestSupport
import XCTest

@testable import MoonlabLab

/// Acceptance #2 through the `moonlab` executable.
final class RerunTests: XCTestCase {
  /// A small classifier on random data with shuffling, augmentation-free: enough seeded
  /// randomness (init, data, shuffle) that any drift would show.
  static let script = """
    local cfg = lab.config
    cfg.lr = cfg.lr or 0.1
    local x = tensor.randn{96, 6}
    local y = x:matmul(tensor.randn{6, 3}):argmax(2)
    local loader = data.Loader(data.tensors(x, y), {batch_size = 16, shuffle = true, seed = 5})
    local model = nn.Sequential{nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3)}
    local opt = optim.SGD(model:parameters(), {lr = cfg.lr, momentum = 0.9})
    lab.fit{model = model, loss = nn.CrossEntropyLoss(), optimizer = opt, train = loader, val = loader, epochs = 3}
    """

  func testRerunIsBitIdenticalAndAChangedScriptIsNamed() throws {
    let folder = try TestPaths.temporaryDirectory()
    try writeScript(Self.script, "train.lua", in: folder)
    let first = try runMoonlab(
      ["run", "train.lua", "--seed", "11", "--threads", "2", "--set", "lr=0.05", "--out", "a"],
      in: folder)
    XCTAssertEqual(first.status, 0, first.output)
    let a = folder.appendingPathComponent("a")
    XCTAssertEqual(MetricsLog.read(a.appendingPathComponent("metrics.jsonl")).count, 3)

    let same = try runMoonlab(["rerun", "a", "--out", "b"], in: folder)
    XCTAssertEqual(same.status, 0, same.output)
    XCTAssertTrue(same.output.contains("bit-identical"), same.output)
    let config = try JSON.parse(read(folder.appendingPathComponent("b/config.json")))
    XCTAssertEqual(config["seed"], .number(11))
    XCTAssertEqual(config["threads"], .number(2))
    XCTAssertEqual(config["settings"]?["lr"], .number(0.05))
    XCTAssertEqual(config["kernels"], .string(KernelBuild.name))
    XCTAssertFalse(same.output.contains("kernels"), same.output)

    // The saved copy edited: the rerun warns about the hash and names the first metric.
    let changed = Self.script.replacingOccurrences(of: "momentum = 0.9", with: "momentum = 0.5")
    try changed.write(to: a.appendingPathComponent("script.lua"), atomically: true, encoding: .utf8)
    let different = try runMoonlab(["rerun", "a", "--out", "c"], in: folder)
    XCTAssertEqual(different.status, 1, different.output)
    XCTAssertTrue(
      different.output.contains("the script differs from the recorded one"), different.output)
    XCTAssertTrue(
      different.output.contains("metrics differ: line 1 (epoch 1): metric 'train_loss'"),
      different.output)
  }

  func testARunFromAnotherKernelBuildIsNoted() throws {
    let folder = try TestPaths.temporaryDirectory()
    let other = KernelBuild.name == "portable" ? "avx2-fma" : "portable"
    try #"{"name": "x", "kernels": "\#(other)"}"#.write(
      to: folder.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
    let note = try XCTUnwrap(Rerun.kernelChange(runDir: folder))
    XCTAssertTrue(note.contains("recorded with \(other) kernels"), note)
    try #"{"name": "x", "kernels": "\#(KernelBuild.name)"}"#.write(
      to: folder.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
    XCTAssertNil(Rerun.kernelChange(runDir: folder))
  }

  /// The comparison reads both metrics files strictly: a junk line is not skipped (it
  /// used to be, and the rerun said "bit-identical").
  func testJunkInMetricsIsAnError() throws {
    let a = try TestPaths.temporaryDirectory()
    let b = try TestPaths.temporaryDirectory()
    let line = #"{"epoch":1,"train_loss":0.5}"# + "\n"
    try line.write(to: a.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)
    try line.write(to: b.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)
    XCTAssertNil(try Rerun.firstDifference(a, b))
    let junk = a.appendingPathComponent("metrics.jsonl")
    try (line + "not json\n").write(to: junk, atomically: true, encoding: .utf8)
    XCTAssertThrowsError(try Rerun.firstDifference(a, b)) {
      XCTAssertEqual("\($0)", "\(junk.path): line 2 is not a JSON object: not json")
    }
    try (line + #"{"epoch":2"#).write(to: junk, atomically: true, encoding: .utf8)
    XCTAssertThrowsError(try Rerun.firstDifference(a, b)) {
      XCTAssertTrue("\($0)".contains("line 2 is unfinished"), "\($0)")
    }
  }

  /// A damaged record is named: the file and where its JSON breaks.
  func testCorruptConfigIsNamed() throws {
    let folder = try TestPaths.temporaryDirectory()
    let config = folder.appendingPathComponent("config.json")
    try #"{"name" "x"}"#.write(to: config, atomically: true, encoding: .utf8)
    XCTAssertThrowsError(try Rerun.request(runDir: folder, script: nil, out: nil)) {
      XCTAssertEqual("\($0)", "\(config.path): not valid JSON: expected ':' at byte 8")
    }
    XCTAssertThrowsError(try ReportWriter.rerender(folder)) {
      XCTAssertTrue("\($0)".hasPrefix("\(config.path): not valid JSON"), "\($0)")
    }
  }

  /// The acceptance run itself, shrunk: LeNet on the bundled CIFAR-10 sample with
  /// augmentation, shuffling and two threads, checkpoints and filters. It reruns on the
  /// sample even with $MOONLAB_DATA pointing at the full CIFAR-10 (issue 16).
  func testLeNetOnTheSampleRerunsBitIdentical() throws {
    let folder = try TestPaths.temporaryDirectory()
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
      "Scripts/lenet_cifar.lua")
    let cache = ["XDG_CACHE_HOME": folder.appendingPathComponent("cache").path]
    let env = cache.merging(["MOONLAB_DATA": folder.appendingPathComponent("no-data").path]) { $1 }
    let settings = ["--set", "limit=48", "--set", "epochs=2", "--set", "batch_size=16"]
    let first = try runMoonlab(
      ["run", script.path, "--seed", "3", "--threads", "2", "--out", "lenet"] + settings,
      in: folder, environment: env)
    XCTAssertEqual(first.status, 0, first.output)
    let run = folder.appendingPathComponent("lenet")
    for file in [
      "DONE", "checkpoints/epoch-002.safetensors", "images/001.png", "images/002.png",
      "report.html",
    ] {
      XCTAssertTrue(exists(run, file), file)
    }
    let full = try DataFixtures.fullCIFAR10(scratch: folder.appendingPathComponent("full"))
    let again = try runMoonlab(
      ["rerun", "lenet", "--out", "lenet-again"], in: folder,
      environment: cache.merging(["MOONLAB_DATA": full.path]) { $1 })
    XCTAssertEqual(again.status, 0, again.output)
    XCTAssertTrue(
      again.output.contains("cifar10 train: reading the bundled sample, as the recorded run did"),
      again.output)
    XCTAssertTrue(
      again.output.contains(
        "metrics differ only in timing fields (seconds, images_per_s); every other value is bit-identical"
      ), again.output)
    XCTAssertFalse(again.output.contains("note:"), again.output)
    for dir in ["lenet", "lenet-again"] {
      let config = try JSON.parse(read(folder.appendingPathComponent("\(dir)/config.json")))
      let datasets = try XCTUnwrap(config["datasets"]?.items, dir)
      XCTAssertEqual(datasets.compactMap { $0["split"]?.text }, ["train", "test"], dir)
      XCTAssertEqual(Set(datasets.compactMap { $0["source"]?.text }), ["bundled sample"], dir)
    }
  }

  /// The same script run plainly with the full data reads it: the rerun's pin is what
  /// keeps the sample.
  func testWithoutARecordTheFullDataIsRead() throws {
    let folder = try TestPaths.temporaryDirectory()
    let full = try DataFixtures.fullCIFAR10(scratch: folder.appendingPathComponent("full"))
    try writeScript("lab.log{step = 1, n = #data.cifar10{split = 'test'}}", "n.lua", in: folder)
    let env = [
      "MOONLAB_DATA": full.path, "XDG_CACHE_HOME": folder.appendingPathComponent("cache").path,
    ]
    let r = try runMoonlab(["run", "n.lua", "--out", "a"], in: folder, environment: env)
    XCTAssertEqual(r.status, 0, r.output)
    let config = try JSON.parse(read(folder.appendingPathComponent("a/config.json")))
    XCTAssertEqual(
      config["datasets"]?.items?.first?["source"]?.text,
      full.appendingPathComponent("cifar10").standardizedFileURL.path)
  }

  /// A dataset file with one byte flipped is named before the rerun runs, the rerun still
  /// runs and the comparison names the metric that changed.
  func testAChangedDataFileIsNamedBeforeTheRerun() throws {
    let folder = try TestPaths.temporaryDirectory()
    let root = folder.appendingPathComponent("data")
    try DataFixtures.mnist(in: root)
    try writeScript(
      """
      local ds = data.mnist{split = 'test'}
      local sum = 0
      for i = 1, #ds do sum = sum + ds:get(i):sum():item() end
      lab.log{step = 1, pixel_sum = sum, images = #ds}
      """, "pixels.lua", in: folder)
    let env = [
      "MOONLAB_DATA": root.path, "XDG_CACHE_HOME": folder.appendingPathComponent("cache").path,
    ]
    XCTAssertEqual(
      try runMoonlab(["run", "pixels.lua", "--out", "a"], in: folder, environment: env).status, 0)
    let images = root.appendingPathComponent("mnist/t10k-images-idx3-ubyte").standardizedFileURL
    let same = try runMoonlab(["rerun", "a", "--out", "b"], in: folder, environment: env)
    XCTAssertEqual(same.status, 0, same.output)
    XCTAssertTrue(same.output.contains("metrics are bit-identical"), same.output)
    XCTAssertFalse(same.output.contains("note:"), same.output)

    var bytes = [UInt8](try Data(contentsOf: images))
    bytes[100] ^= 0xff
    try Data(bytes).write(to: images)
    let changed = try runMoonlab(["rerun", "a", "--out", "c"], in: folder, environment: env)
    XCTAssertEqual(changed.status, 1, changed.output)
    let lines = changed.output.split(separator: "\n").map(String.init)
    let note = try XCTUnwrap(
      lines.firstIndex { $0.hasPrefix("note: data changed: \(images.path) (mnist test:") },
      changed.output)
    let verdict = try XCTUnwrap(
      lines.firstIndex { $0.hasPrefix("metrics differ: line 1 (step 1): metric 'pixel_sum'") },
      changed.output)
    XCTAssertLessThan(note, verdict)
    XCTAssertTrue(changed.output.contains("(1 mismatch noted above, before the rerun)"))
    XCTAssertEqual(lines.filter { $0.hasPrefix("note:") }.count, 1, changed.output)

    // The data gone altogether: named, the rerun fails to find it, and says so.
    try FileManager.default.removeItem(at: root.appendingPathComponent("mnist"))
    let gone = try runMoonlab(["rerun", "a", "--out", "d"], in: folder, environment: env)
    XCTAssertNotEqual(gone.status, 0, gone.output)
    XCTAssertTrue(gone.output.contains("note: data missing: \(images.path)"), gone.output)
    XCTAssertTrue(gone.output.contains("mnist: no MNIST in"), gone.output)
  }

  /// A record from before datasets were recorded, another OpenBLAS: each named.
  func testOtherMismatchesAreNamed() throws {
    let folder = try TestPaths.temporaryDirectory()
    try #"{"name": "x", "threads": 100000, "openblas": {"version": "0.0.1", "core": "Nehalem"}}"#
      .write(to: folder.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
    let notes = Rerun.mismatches(runDir: folder, script: "/nonexistent")
    XCTAssertTrue(notes.contains { $0.hasPrefix("config.json records no datasets") }, "\(notes)")
    XCTAssertTrue(
      notes.contains { $0.hasPrefix("the run was recorded with OpenBLAS 0.0.1 (Nehalem core)") },
      "\(notes)")
    try #"{"name": "x", "datasets": []}"#.write(
      to: folder.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
    XCTAssertEqual(
      Rerun.mismatches(runDir: folder, script: "/nonexistent"),
      ["config.json records no thread count: the rerun uses 1 thread"])
  }

  /// A recorded bundled sample is checked against this installation's, file by file,
  /// and a file the reader opens now but the run did not is named too.
  func testBundledSampleIsCheckedAgainstTheRecord() throws {
    let sample = try XCTUnwrap(Sample.cifar10Folder())
    let cache = try TestPaths.temporaryDirectory().appendingPathComponent("sha256.json")
    let recorded = try DatasetRecord.json(
      try DataSource.make("cifar10", split: "test", origin: .bundledSample),
      digests: FileDigests(cacheFile: cache))
    XCTAssertEqual(DatasetRecord.mismatches(recorded, digests: FileDigests(cacheFile: cache)), [])
    let edited = try JSON.parse(
      #"{"name": "cifar10", "split": "test", "source": "bundled sample", "files": [{"name": "test.bin.gz", "bytes": 5, "sha256": "00"}]}"#
    )
    let notes = DatasetRecord.mismatches(edited, digests: FileDigests(cacheFile: cache))
    XCTAssertEqual(notes.count, 2, "\(notes)")
    XCTAssertTrue(
      notes[0].hasPrefix(
        "data changed: \(sample.appendingPathComponent("test.bin.gz").path) (cifar10 test: 2884511 bytes"
      ), notes[0])
    XCTAssertEqual(
      notes[1],
      "data changed: \(sample.appendingPathComponent("batches.meta.txt").path) (cifar10 test: not read by the recorded run)"
    )
    XCTAssertEqual(
      DatasetRecord.mismatches(.string("junk"), digests: FileDigests(cacheFile: nil)),
      ["data: config.json has a dataset entry without name, split and source"])
  }

  /// Under --sandbox a rerun reads only the default roots or the sample, whatever a
  /// hand-edited config.json says.
  func testSandboxKeepsPinsInsideTheDataRoots() {
    let inside = DataRoot.candidates()[0].appendingPathComponent("mnist")
    let pins: [String: DataSource.Origin] = [
      "cifar10/train": .bundledSample, "mnist/train": .folder(inside),
      "mnist/test": .folder(URL(fileURLWithPath: "/etc/mnist")),
    ]
    XCTAssertEqual(LabSession.sandboxed(pins).keys.sorted(), ["cifar10/train", "mnist/train"])
  }

  func testVerdictsTellTimingFromValues() throws {
    let a = try TestPaths.temporaryDirectory()
    let b = try TestPaths.temporaryDirectory()
    func write(_ dir: URL, _ text: String) throws {
      try (text + "\n").write(
        to: dir.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)
    }
    try write(a, #"{"epoch":1,"train_loss":0.5,"seconds":1.5,"images_per_s":10}"#)
    try write(b, #"{"epoch":1,"train_loss":0.5,"seconds":1.5,"images_per_s":10}"#)
    XCTAssertEqual(try Rerun.compare(a, b), .bitIdentical)
    try write(b, #"{"epoch":1,"train_loss":0.5,"seconds":2.5,"images_per_s":9}"#)
    XCTAssertEqual(try Rerun.compare(a, b), .timingOnly(["seconds", "images_per_s"]))
    try write(b, #"{"epoch":1,"train_loss":0.50000001,"seconds":2.5,"images_per_s":9}"#)
    XCTAssertEqual(
      try Rerun.compare(a, b),
      .differs(
        "line 1 (epoch 1): metric 'train_loss' is 0.5 in the original, 0.50000001 in the rerun"))
  }

  func testSweepTrialReruns() throws {
    let folder = try TestPaths.temporaryDirectory()
    try writeScript(SweepTests.script, "sweep.lua", in: folder)
    XCTAssertEqual(
      try runMoonlab(["sweep", "sweep.lua", "--threads", "1", "--out", "s"], in: folder).status, 0)
    let trial = try XCTUnwrap(
      try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("s").path)
        .first {
          exists(folder.appendingPathComponent("s/\($0)"), "DONE")
        })
    let r = try runMoonlab(["rerun", "s/\(trial)", "--out", "again"], in: folder)
    XCTAssertEqual(r.status, 0, r.output)
    XCTAssertTrue(r.output.contains("bit-identical"), r.output)
    XCTAssertEqual(
      try JSON.parse(read(folder.appendingPathComponent("again/result.json")))["result"],
      try JSON.parse(read(folder.appendingPathComponent("s/\(trial)/result.json")))["result"])
  }
}
