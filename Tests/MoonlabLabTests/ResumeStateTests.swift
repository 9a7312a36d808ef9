import Foundation
import MoonlabData
import MoonlabNN
import MoonlabTensor
import TestSupport
import XCTest

@testable import MoonlabLab

/// The pieces of a train state (docs/lab.md, "Resuming a run") each put back exactly,
/// and resumption in-process: a damaged checkpoint is skipped, a different run refused.
final class ResumeStateTests: XCTestCase {
  /// Steps `opt` on `p` with gradients drawn from `g`.
  func step(_ opt: Optimizer, _ p: [Tensor], _ g: Generator, times: Int) throws {
    for _ in 0..<times {
      for t in p {
        t.grad = Tensor(shape: t.shape, storage: TensorStorage(count: t.count))
        for i in 0..<t.count { t.grad?.data[i] = g.normal() }
      }
      try opt.step()
    }
  }

  func copies(_ p: [Tensor]) -> [Tensor] {
    p.map { t in
      let c = Tensor(zeros: t.shape)
      c.data.update(from: t.data, count: t.count)
      return c
    }
  }

  func bits(_ p: [Tensor]) -> [[UInt32]] {
    p.map { t in (0..<t.count).map { t.data[$0].bitPattern } }
  }

  func testOptimizerStateContinuesBitForBit() throws {
    let makers: [(String, ([Tensor]) throws -> Optimizer)] = [
      ("SGD", { try SGD($0, lr: 0.1, momentum: 0.9, nesterov: true) }),
      ("Adam", { try Adam($0, lr: 0.01) }),
      ("RMSprop", { try RMSprop($0, lr: 0.01, momentum: 0.5, centered: true) }),
      (
        "groups",
        {
          try ParamGroups([
            try AdamW([$0[0]], lr: 0.01), try AdamW(Array($0.dropFirst()), lr: 0.002),
          ])
        }
      ),
    ]
    for (name, make) in makers {
      let a = [Tensor(zeros: [3, 4]), Tensor(zeros: [4]), Tensor(zeros: [2])]
      let optA = try make(a)
      let g = Generator(seed: 1)
      try step(optA, a, g, times: 3)
      optA.lr = 0.005  // a callback's change survives too
      let b = copies(a)
      let optB = try make(b)
      try optB.importState(optA.exportState())
      XCTAssertEqual(optB.groupLRs, optA.groupLRs, name)
      let gA = Generator(seed: 2)
      let gB = Generator(seed: 2)
      try step(optA, a, gA, times: 2)
      try step(optB, b, gB, times: 2)
      XCTAssertEqual(bits(a), bits(b), name)
      // Without the state, the same steps go elsewhere (the test can tell).
      let c = copies(b)
      let fresh = try make(c)
      fresh.groupLRs = optB.groupLRs
      try step(fresh, c, Generator(seed: 3), times: 1)
      try step(optB, b, Generator(seed: 3), times: 1)
      XCTAssertNotEqual(bits(b), bits(c), name)
    }
  }

  func testOptimizerStateOfAnotherShapeIsRefusedAndChangesNothing() throws {
    let a = [Tensor(zeros: [3])]
    let opt = try Adam(a, lr: 0.01)
    try step(opt, a, Generator(seed: 1), times: 1)
    var state = opt.exportState()
    state.buffers[0][1] = Tensor(zeros: [4])
    let other = try Adam([Tensor(zeros: [3])], lr: 0.02)
    XCTAssertThrowsError(try other.importState(state)) { error in
      XCTAssertTrue("\(error)".contains("a buffer of parameter 1 has shape [4]"), "\(error)")
    }
    XCTAssertEqual(other.lr, 0.02)
    XCTAssertThrowsError(
      try SGD([Tensor(zeros: [3]), Tensor(zeros: [1])], lr: 1).importState(state))
  }

  func testRandomStreamsAndLoaderContinueWhereTheyStood() throws {
    let context = RunContext(seed: 9)
    let dropout = context.stream("dropout")
    for _ in 0..<5 { _ = dropout.next() }
    for _ in 0..<3 { _ = context.random.next() }
    let saved = context.randomState
    let expected = (dropout.next(), context.random.next(), context.stream("init").next())

    let again = RunContext(seed: 9)
    let held = again.stream("dropout")  // a layer holding its stream sees the restore
    _ = again.stream("augment").next()  // unknown to the state: starts afresh
    try again.restoreRandom(saved)
    XCTAssertEqual(held.next(), expected.0)
    XCTAssertEqual(again.random.next(), expected.1)
    XCTAssertEqual(again.stream("init").next(), expected.2)
    XCTAssertEqual(
      again.stream("augment").next(), Generator(seed: 9, stream: "augment").next())
    var bad = saved
    bad.global = [0, 0, 0, 0]
    XCTAssertThrowsError(try again.restoreRandom(bad))

    let x = Tensor(zeros: [10, 1])
    for i in 0..<10 { x.data[i] = Float(i) }
    let ds = try Dataset(
      name: "t", sampleShape: [1], storage: .floats(x.toArray()),
      targets: [Float](repeating: 0, count: 10))
    var options = Loader.Options()
    options.shuffle = true
    options.batchSize = 10
    let loader = try Loader(ds, options)
    for _ in 0..<3 { _ = loader.nextEpoch() }
    let third = try XCTUnwrap(try loader.nextEpoch().next()).x.toArray()
    let resumed = try Loader(ds, options)
    try resumed.restore(epoch: 3)
    XCTAssertEqual(try XCTUnwrap(try resumed.nextEpoch().next()).x.toArray(), third)
  }

  // MARK: In-process resumption

  /// A small classifier with shuffling and dropout: `train`, `m`, `opt`.
  static let setup = """
    local x = tensor.randn{48, 4}
    local y = x:matmul(tensor.randn{4, 2}):argmax(2)
    local train = data.Loader(data.tensors(x, y), {batch_size = 16, shuffle = true})
    local m = nn.Sequential{nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.25), nn.Linear(8, 2)}
    local opt = optim.SGD(m:parameters(), {lr = 0.1, momentum = 0.9})
    """

  /// Fails in epoch 4 while `lab.config.crash` names an existing file.
  static let crashing = """
    \(setup)
    lab.log{setup = 1}
    lab.fit{model = m, loss = nn.CrossEntropyLoss(), optimizer = opt, train = train, epochs = 6,
      checkpoint_every = 1, scheduler = optim.ReduceLROnPlateau(opt, {patience = 0, factor = 0.5}),
      on_step = function(step)
        if step == 10 and io.open(lab.config.crash) then error('crash') end
      end}
    """

  func crashedRun(_ folder: URL, name: String) throws -> URL {
    let crash = folder.appendingPathComponent("crash")
    FileManager.default.createFile(atPath: crash.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: crash) }
    let dir = folder.appendingPathComponent(name)
    XCTAssertThrowsError(
      try runInProcess(
        folder.appendingPathComponent("fit.lua").path, out: dir,
        configure: { $0.config = [("crash", .string(crash.path))] }))
    return dir
  }

  func testADamagedCheckpointIsSkippedAndTheResultStaysExact() throws {
    let folder = try TestPaths.temporaryDirectory()
    let script = try writeScript(Self.crashing, "fit.lua", in: folder)
    let crash = folder.appendingPathComponent("crash").path
    let ref = folder.appendingPathComponent("ref")
    try runInProcess(script, out: ref, configure: { $0.config = [("crash", .string(crash))] })
    let dir = try crashedRun(folder, name: "crashed")
    // Epoch 3's tensors lose a byte: resume goes back to epoch 2 and redoes 3.
    let tensors = dir.appendingPathComponent("train-state/epoch-003.safetensors")
    var bytes = try Data(contentsOf: tensors)
    bytes[bytes.count - 1] ^= 1
    try bytes.write(to: tensors)
    try ScriptRunner.run(try RunResume.request(runDir: dir))
    XCTAssertNil(try Rerun.firstDifference(ref, dir))
    for file in ["checkpoints/epoch-006.safetensors", "train-state/epoch-006.safetensors"] {
      XCTAssertEqual(
        try Data(contentsOf: ref.appendingPathComponent(file)),
        try Data(contentsOf: dir.appendingPathComponent(file)), file)
    }
    XCTAssertEqual(
      try JSON.read(dir.appendingPathComponent("config.json"))?["resumed"]?.items?.first?[
        "after_epoch"], .number(2))
  }

  /// Two lab.fit calls; the first stops early (early_stop), the second fails in its
  /// epoch 2 (`crash = 'fit'`) or the script fails after it (`crash = 'end'`).
  static let twoFits = """
    \(setup)
    local crashing = io.open(lab.config.sentinel) ~= nil
    lab.fit{model = m, loss = nn.CrossEntropyLoss(), optimizer = opt, train = train, epochs = 6,
      checkpoint_every = 1, early_stop = {metric = 'train_loss', patience = 0, min_delta = 100}}
    lab.log{between = 1}
    local opt2 = optim.Adam(m:parameters(), {lr = 0.01})
    lab.fit{model = m, loss = nn.CrossEntropyLoss(), optimizer = opt2, train = train, epochs = 3,
      checkpoint_every = 1, on_step = function(step)
        if crashing and lab.config.crash == 'fit' and step == 4 then error('crash') end
      end}
    if crashing and lab.config.crash == 'end' then error('crash') end
    lab.log{done = 1}
    """

  func testEarlierFitsRunAgainAndAFinishedFitReturnsAtOnce() throws {
    let folder = try TestPaths.temporaryDirectory()
    let script = try writeScript(Self.twoFits, "fit.lua", in: folder)
    let sentinel = folder.appendingPathComponent("sentinel")
    let ref = folder.appendingPathComponent("ref")
    try runInProcess(script, out: ref) { $0.config = [("sentinel", .string(sentinel.path))] }
    XCTAssertEqual(MetricsLog.read(ref.appendingPathComponent("metrics.jsonl")).count, 7)
    for (crash, after) in [("fit", 3), ("end", 5)] {
      let dir = folder.appendingPathComponent(crash)
      FileManager.default.createFile(atPath: sentinel.path, contents: nil)
      XCTAssertThrowsError(
        try runInProcess(script, out: dir) {
          $0.config = [("sentinel", .string(sentinel.path)), ("crash", .string(crash))]
        })
      try FileManager.default.removeItem(at: sentinel)
      try ScriptRunner.run(try RunResume.request(runDir: dir))
      XCTAssertNil(try Rerun.firstDifference(ref, dir), crash)
      XCTAssertEqual(
        try Data(contentsOf: ref.appendingPathComponent("checkpoints/epoch-005.safetensors")),
        try Data(contentsOf: dir.appendingPathComponent("checkpoints/epoch-005.safetensors")),
        crash)
      let config = try XCTUnwrap(try JSON.read(dir.appendingPathComponent("config.json")))
      XCTAssertEqual(config["resumed"]?.items?.first?["after_epoch"], .number(Double(after)))
      XCTAssertTrue(read(dir.appendingPathComponent("report.md")).contains("Stopped after epoch 2"))
    }
  }

  /// Train states with one value replaced (numbers out of range, other types, broken
  /// structure) are read or refused with a message, and a resume from one that reads
  /// fails with a message or continues: never a trap.
  func testMutatedTrainStatesAreErrorsNotCrashes() throws {
    let folder = try TestPaths.temporaryDirectory()
    try writeScript(Self.crashing, "fit.lua", in: folder)
    let crashed = try crashedRun(folder, name: "crashed")
    let file = crashed.appendingPathComponent("train-state/epoch-003.json")
    let original = read(file).split(separator: "\n", omittingEmptySubsequences: false)
    let values = [
      "-1", "0", "1e300", "0.5", "\"x\"", "null", "[]", "{}", "true", "9.3e18", "-0.0", "1e15",
      "\"ffffffffffffffffffff\"", "[\"0\", \"0\", \"0\", \"0\"]", "123456789012",
    ]
    let rng = Generator(seed: 4)
    var (read, resumed) = (0, 0)
    for round in 0..<300 {
      var lines = original
      let i = rng.below(lines.count)
      let line = lines[i]
      let start = line.range(of: ": ")?.upperBound ?? line.firstIndex { $0 != " " } ?? line.endIndex
      let comma = line.hasSuffix(",") ? "," : ""
      lines[i] = line[..<start] + values[rng.below(values.count)] + comma
      let dir = folder.appendingPathComponent("m\(round)")
      try FileManager.default.copyItem(at: crashed, to: dir)
      try lines.joined(separator: "\n").write(
        to: dir.appendingPathComponent("train-state/epoch-003.json"), atomically: true,
        encoding: .utf8)
      guard (try? TrainState.read(dir.appendingPathComponent("train-state/epoch-003.json"))) != nil
      else { continue }
      read += 1
      if resumed < 25 {
        resumed += 1
        _ = try? ScriptRunner.run(try RunResume.request(runDir: dir))
      }
    }
    XCTAssertGreaterThan(read, 0, "some mutations keep a readable state")
    XCTAssertLessThan(read, 300, "most mutations are refused")
  }

  func testAChangedScriptOrAFinishedRunIsNotResumed() throws {
    let folder = try TestPaths.temporaryDirectory()
    try writeScript(Self.crashing, "fit.lua", in: folder)
    let dir = try crashedRun(folder, name: "crashed")
    // The saved script now logs something else before lab.fit: refused at that line.
    let edited = Self.crashing.replacingOccurrences(of: "setup = 1", with: "setup = 2")
    try edited.write(
      to: dir.appendingPathComponent("script.lua"), atomically: true, encoding: .utf8)
    XCTAssertThrowsError(try ScriptRunner.run(try RunResume.request(runDir: dir))) { error in
      XCTAssertTrue(
        "\(error)".contains("resume: metrics line 1 differs from the recorded run (metric 'setup'"),
        "\(error)")
    }
    // Another optimizer: refused by lab.fit, naming the checkpoint.
    let other = Self.crashing.replacingOccurrences(
      of: "optim.SGD(m:parameters(), {lr = 0.1, momentum = 0.9})",
      with: "optim.Adam(m:parameters(), {lr = 0.1})")
    try other.write(to: dir.appendingPathComponent("script.lua"), atomically: true, encoding: .utf8)
    XCTAssertThrowsError(try ScriptRunner.run(try RunResume.request(runDir: dir))) { error in
      XCTAssertTrue(
        "\(error)".contains(
          "can't resume from train-state/epoch-003.json: it holds a SGD optimizer, this fit has Adam"
        ),
        "\(error)")
    }
    try Self.crashing.write(
      to: dir.appendingPathComponent("script.lua"), atomically: true, encoding: .utf8)
    try ScriptRunner.run(try RunResume.request(runDir: dir))
    XCTAssertThrowsError(try RunResume.request(runDir: dir)) { error in
      XCTAssertTrue("\(error)".contains("finished (DONE is there)"), "\(error)")
    }
    XCTAssertThrowsError(try RunResume.request(runDir: folder)) { error in
      XCTAssertTrue("\(error)".contains("is not a run directory"), "\(error)")
    }
  }
}
