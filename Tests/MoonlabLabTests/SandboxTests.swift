import Foundation
import MoonlabTensor
import TestSupport
import XCTest

@testable import MoonlabLab

/// Acceptance #5: `moonlab run --sandbox` refusals and caps.
final class SandboxTests: XCTestCase {
  func run(_ code: String, memoryMB: Int = 512, seconds: Double = 0, sandbox: Bool = true) throws
    -> String?
  {
    let folder = try TestPaths.temporaryDirectory()
    let script = try writeScript(code, "untrusted.lua", in: folder)
    do {
      try runInProcess(script, out: folder.appendingPathComponent("run-\(UUID().uuidString)")) {
        $0.sandbox = sandbox
        $0.memoryLimitBytes = memoryMB << 20
        $0.timeLimitSeconds = seconds
      }
      return nil
    } catch {
      return String(describing: error)
    }
  }

  func testRefusesProcessesNativeCodeAndBinaryChunks() throws {
    for (code, message) in [
      ("os.execute('true')", "os.execute is not available in the sandbox"),
      ("io.popen('ls')", "io.popen is not available in the sandbox"),
      ("io.open('/etc/passwd')", "io.open is not available in the sandbox"),
      ("package.loadlib('libc.so.6', 'system')", "package.loadlib is not available in the sandbox"),
      ("load(string.dump(print))", "string.dump is not available in the sandbox"),
      ("load('\\27Lua\\84\\0')", "load: binary chunks are not allowed in the sandbox"),
      ("load('return 1', 'x', 'b')", "load: binary chunks are not allowed in the sandbox"),
      ("dofile('/etc/passwd')", "attempt to call a nil value (global 'dofile')"),
      ("require('io')", "only Moonlab's libraries are available in the sandbox"),
    ] {
      let error = try run(code)
      XCTAssertTrue(error?.contains(message) ?? false, "\(code): \(error ?? "no error")")
      XCTAssertTrue(error?.contains("untrusted.lua:1:") ?? false, "\(code): \(error ?? "no error")")
    }
    // What the sandbox keeps.
    XCTAssertNil(
      try run(
        "assert(os.clock() >= 0 and os.time() > 0); assert(require('tensor') == tensor); assert(load('return 1')() == 1)"
      ))
  }

  func testFilesStayInsideTheRunDirectory() throws {
    let outside = try TestPaths.temporaryDirectory().appendingPathComponent("escaped.safetensors")
    for (code, message) in [
      ("nn.Linear(2, 2):save('\(outside.path)')", "bad argument #2 to 'save' (the sandbox"),
      ("nn.Linear(2, 2):save('../escaped.safetensors')", "got '../escaped.safetensors'"),
      ("nn.Linear(2, 2):load('/etc/passwd')", "bad argument #2 to 'load' (the sandbox"),
      ("nn.load('a/../../x.safetensors')", "bad argument #1 to 'load' (the sandbox"),
      ("data.cifar10{root = '/'}", "option 'root' is not available in the sandbox"),
    ] {
      let error = try run(code)
      XCTAssertTrue(error?.contains(message) ?? false, "\(code): \(error ?? "no error")")
      XCTAssertTrue(error?.contains("untrusted.lua:1:") ?? false, "\(code): \(error ?? "no error")")
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: outside.path))
    // Inside the run directory, save and load work (relative to it, not to the cwd).
    XCTAssertNil(
      try run(
        """
        local m = nn.Linear(2, 2)
        m:save('model.safetensors')
        assert(nn.load('model.safetensors')['weight'])
        m:load('model.safetensors')
        assert(lab.run_dir())
        """))
    // Outside the sandbox a path is used as given.
    let free = try TestPaths.temporaryDirectory().appendingPathComponent("free.safetensors")
    XCTAssertNil(try run("nn.Linear(2, 2):save('\(free.path)')", sandbox: false))
    XCTAssertTrue(FileManager.default.fileExists(atPath: free.path))
  }

  /// A symbolic link already in the run directory is not followed out of it, and the run
  /// record's own files can't be written by the script (a forged DONE or metrics line).
  func testNoSymlinkEscapeAndNoForgedRecord() throws {
    let folder = try TestPaths.temporaryDirectory()
    let outside = try TestPaths.temporaryDirectory()
    let runDir = folder.appendingPathComponent("run")
    try FileManager.default.createDirectory(at: runDir, withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(
      at: runDir.appendingPathComponent("link"), withDestinationURL: outside)
    let script = try writeScript(
      "nn.Linear(2, 2):save('link/x.safetensors')", "untrusted.lua", in: folder)
    XCTAssertThrowsError(try runInProcess(script, out: runDir) { $0.sandbox = true }) {
      XCTAssertTrue("\($0)".contains("follows no symbolic links, and 'link'"), "\($0)")
    }
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside.path), [])
    // A hard link planted in the run directory: the write replaces the link (temp file +
    // rename), the outside file keeps its bytes.
    let victim = outside.appendingPathComponent("victim.safetensors")
    try Data("keep".utf8).write(to: victim)
    let hardRun = folder.appendingPathComponent("hard")
    try FileManager.default.createDirectory(at: hardRun, withIntermediateDirectories: true)
    try FileManager.default.linkItem(
      at: victim, to: hardRun.appendingPathComponent("m.safetensors"))
    let saver = try writeScript("nn.Linear(2, 2):save('m.safetensors')", "saver.lua", in: folder)
    try runInProcess(saver, out: hardRun) { $0.sandbox = true }
    XCTAssertEqual(try String(contentsOf: victim, encoding: .utf8), "keep")
    for name in [
      "DONE", "config.json", "metrics.jsonl", "script.lua", "report.html", "images/001.png",
    ] {
      let error = try run("nn.Linear(2, 2):save('\(name)')")
      XCTAssertTrue(
        error?.contains("keeps the run record's own files") ?? false,
        "\(name): \(error ?? "no error")")
    }
  }

  /// --memory-limit covers tensors too (their floats live outside the Lua heap): an
  /// allocation bomb of tensors, or of op results kept alive, stops at the limit.
  /// A layer's scratch counts too: im2col columns 121× the size of a 4 MB image would
  /// not fit, and are an error naming the layer, not an allocation failure (a trap once
  /// they outgrow the machine).
  func testLayerScratchIsCheckedAgainstTheLimit() throws {
    let error = try run(
      "local y = nn.Conv2d(1, 1, 11, {padding = 5})(tensor.zeros{1, 1, 1000, 1000})",
      memoryMB: 64 + TensorMemory.liveBytes >> 20)
    XCTAssertTrue(
      error?.contains("Conv2d: the tensor memory limit of") ?? false, error ?? "no error")
  }

  func testMemoryCapStopsATensorBomb() throws {
    for code in [
      "local keep = {} while true do keep[#keep + 1] = tensor.randn{1024, 1024} end",
      "local a = tensor.randn{512, 512} local keep = {} while true do keep[#keep + 1] = a:matmul(a) + 1 end",
    ] {
      let error = try run(code, memoryMB: 64)
      XCTAssertTrue(
        error?.contains("the tensor memory limit of 64 MB is reached") ?? false,
        "\(code): \(error ?? "no error")")
      XCTAssertLessThan(
        TensorMemory.liveBytes, 64 << 20, "the bomb's tensors are freed with its state")
    }
    XCTAssertEqual(RunContext.current.memoryLimitBytes, 0, "the limit is the run's alone")
  }

  func testMemoryCapStopsARunawayTable() throws {
    let error = try run(
      "local t = {} while true do t[#t + 1] = string.rep('x', 64) .. #t end", memoryMB: 8)
    XCTAssertEqual(error, "script stopped: it went over its memory limit of 8 MB (--memory-limit)")
  }

  /// The time-limit error can't be caught for good: pcall, xpcall and coroutine.resume
  /// raise it again once time is up, and no Swift call starts after it, so an endless
  /// pcall loop and a loop of heavy tensor calls both stop within the limit + 1 s.
  func testTimeLimitCannotBeCaughtOrOutrun() throws {
    for code in [
      "while true do pcall(function() while true do end end) end",
      "while true do xpcall(function() while true do end end, function(e) return e end) end",
      "while true do coroutine.resume(coroutine.create(function() while true do end end)) end",
      "while true do local ok = pcall(function() local a = tensor.randn{512, 512}; for i = 1, 1e9 do a = a:matmul(a):tanh() end end) end",
    ] {
      let start = Date()
      let error = try run(code, seconds: 0.5)
      let took = Date().timeIntervalSince(start)
      XCTAssertTrue(
        error?.contains("time limit of 0.5 s exceeded") ?? false, "\(code): \(error ?? "no error")")
      XCTAssertLessThan(took, 1.5, code)
    }
    // Before the limit, pcall still catches errors as usual.
    XCTAssertNil(
      try run(
        "assert(not pcall(error, 'x')); assert(select(2, pcall(error, 'y', 0)) == 'y')", seconds: 5)
    )
  }

  func testTimeLimitStopsAnEndlessLoopAlsoInsideASweep() throws {
    let loop = try run("while true do end", seconds: 0.2)
    XCTAssertTrue(
      loop?.contains("script stopped: time limit of 0.2 s exceeded (--time-limit)") ?? false,
      loop ?? "no error")
    // A sweep's run function is Lua called from Swift: the limit still holds there.
    let folder = try TestPaths.temporaryDirectory()
    let script = try writeScript(
      "lab.sweep{name = 'spin', grid = {a = {1}}, metric = 'm', run = function() while true do end end}",
      "spin.lua", in: folder)
    XCTAssertThrowsError(
      try runInProcess(script, out: folder.appendingPathComponent("outer")) {
        $0.sandbox = true
        $0.timeLimitSeconds = 0.2
        var s = SweepOptions()
        s.out = folder.appendingPathComponent("spin").path
        $0.sweep = s
      }
    ) { XCTAssertTrue(String(describing: $0).contains("1 trial(s) failed"), "\($0)") }
    let trialReport = try FileManager.default.contentsOfDirectory(
      atPath: folder.appendingPathComponent("spin").path
    )
    .filter { !$0.hasSuffix(".json") }.map {
      read(folder.appendingPathComponent("spin/\($0)/report.html"))
    }
    XCTAssertTrue(trialReport.first?.contains("time limit of 0.2 s exceeded") ?? false)
  }
}
