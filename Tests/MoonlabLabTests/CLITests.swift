import Foundation
import TestSupport
import XCTest

@testable import MoonlabLab

/// The `moonlab` executable's exit codes and messages (issue 2).
final class CLITests: XCTestCase {
  private func moonlab(_ args: [String], stdin: String? = nil) throws -> ProcessResult {
    guard FileManager.default.isExecutableFile(atPath: TestPaths.moonlab.path) else {
      throw XCTSkip("build the moonlab product first (swift build): \(TestPaths.moonlab.path)")
    }
    // In a fresh folder: `moonlab run` records into ./runs/.
    return try runProcess(
      TestPaths.moonlab, args, currentDirectory: try TestPaths.temporaryDirectory(), stdin: stdin)
  }

  private func script(_ name: String, _ code: String) throws -> String {
    let url = try TestPaths.temporaryDirectory().appendingPathComponent(name)
    try code.write(to: url, atomically: true, encoding: .utf8)
    return url.path
  }

  func testSyntaxErrorExitsOneWithFileAndLine() throws {
    let path = try script("syntax.lua", "print('ok')\nlocal x = = 2\n")
    let r = try moonlab(["run", path])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("syntax.lua:2:"), r.stderr)
  }

  func testRuntimeErrorInSwiftFunctionNamesCallerLine() throws {
    let path = try script("runtime.lua", "local a = tensor.zeros{2, 3}\n\nlocal b = a:matmul(a)\n")
    let r = try moonlab(["run", path])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(
      r.stderr.contains("runtime.lua:3: matmul: shapes [2,3] and [2,3] don't match"), r.stderr)
    XCTAssertTrue(r.stderr.contains("stack traceback"), r.stderr)
  }

  func testMissingScriptExitsTwo() throws {
    let r = try moonlab(["run", "/nonexistent/script.lua"])
    XCTAssertEqual(r.status, 2)
    XCTAssertTrue(r.stderr.contains("cannot open /nonexistent/script.lua"), r.stderr)
    XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
  }

  func testArgAndSetValuesReachTheScript() throws {
    let path = try script(
      "args.lua",
      "print(arg[0] ~= nil, arg[1], select('#', ...), lab.config.lr, lab.config.bn, lab.config.name)"
    )
    let r = try moonlab([
      "run", path, "--set", "lr=0.5", "--set", "bn=true", "--set", "name=abc", "--", "x", "y",
    ])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertEqual(r.stdout, "true\tx\t2\t0.5\ttrue\tabc\n")
  }

  func testReplKeepsGoingAfterErrors() throws {
    let r = try moonlab(["repl"], stdin: "x = 2\nerror('bad')\nx * 21\n")
    XCTAssertEqual(r.stdout, "42\n")
    XCTAssertTrue(r.stderr.contains("stdin:1: bad"), r.stderr)
  }

  func testVersion() throws {
    let r = try moonlab(["--version"])
    XCTAssertEqual(r.status, 0)
    XCTAssertFalse(r.stdout.isEmpty)
  }

  func testBenchListsRunsAndRejectsUnknownNames() throws {
    let list = try moonlab(["bench", "--list"])
    XCTAssertEqual(list.status, 0, list.stderr)
    for name in ["lua_call", "tensor", "pipeline", "lenet", "lenet_layers", "lenet_augment"] {
      XCTAssertTrue(list.stdout.contains("\(name): "), list.stdout)
    }
    let call = try moonlab(["bench", "lua_call", "--threads", "1"])
    XCTAssertEqual(call.status, 0, call.stderr)
    XCTAssertTrue(call.stdout.hasPrefix("lua_call: "), call.stdout)
    XCTAssertTrue(call.stdout.contains(" ns/call"), call.stdout)
    let unknown = try moonlab(["bench", "lenet", "nosuch"])
    XCTAssertEqual(unknown.status, 2)
    XCTAssertTrue(
      unknown.stderr.contains("unknown benchmark 'nosuch'; choose from lua_call"), unknown.stderr)
    XCTAssertTrue(unknown.stdout.isEmpty, "nothing runs: \(unknown.stdout)")
  }

  /// Out-of-range or repeated options are refused before the script runs, with the
  /// option's name and the value given (never "Missing value" for a negative number).
  func testBadOptionValuesAreRefusedByName() throws {
    let path = try script("ok.lua", "print('ran')\n")
    let cases: [([String], String)] = [
      (["--seed", "-5"], "--seed must be a whole number from 0 to 2^64-1, got '-5'"),
      (["--seed", "1.5"], "--seed must be a whole number from 0 to 2^64-1, got '1.5'"),
      (["--threads", "0"], "--threads must be from 1 to 256, got 0"),
      (["--threads", "100000"], "--threads must be from 1 to 256, got 100000"),
      (["--time-limit", "-1"], "--time-limit must be a positive number of seconds, got -1.0"),
      (["--memory-limit", "0"], "--memory-limit must be a positive number of MB, got 0"),
      (["--set", "a=1", "--set", "a=2"], "--set a is given twice ('1' and '2')"),
      (["--set", "=3"], "--set expects key=value, got '=3'"),
    ]
    for (args, message) in cases {
      let r = try moonlab(["run"] + args + [path])
      XCTAssertNotEqual(r.status, 0, "\(args)")
      XCTAssertTrue(r.stderr.contains(message), "\(args): \(r.stderr)")
      XCTAssertFalse(r.stdout.contains("ran"), "\(args): the script must not run")
    }
    let ok = try moonlab(["run", "--seed", "18446744073709551615", "--threads", "1", path])
    XCTAssertEqual(ok.status, 0, ok.stderr)
  }

  /// A run directory that can't be made is named with the system's reason, without
  /// Foundation's error dump.
  func testUnwritableOutIsExplained() throws {
    let path = try script("ok.lua", "print('ran')\n")
    let r = try moonlab(["run", "--out", "/proc/moonlab-test/run", path])
    XCTAssertNotEqual(r.status, 0)
    XCTAssertTrue(
      r.stderr.contains(
        "can't create the folder /proc/moonlab-test/run: No such file or directory"),
      r.stderr)
    XCTAssertFalse(r.stderr.contains("NSCocoaErrorDomain"), r.stderr)
  }

  /// Output into a file is line-buffered: a run killed with SIGKILL has written every line
  /// it printed (epoch lines used to sit in a 4 KB buffer and die with the process).
  func testPrintedLinesSurviveSIGKILLWhenStdoutIsAFile() throws {
    guard FileManager.default.isExecutableFile(atPath: TestPaths.moonlab.path) else {
      throw XCTSkip("build the moonlab product first (swift build): \(TestPaths.moonlab.path)")
    }
    let dir = try TestPaths.temporaryDirectory()
    let path = try script("spin.lua", "print('first line')\nwhile true do end\n")
    let log = dir.appendingPathComponent("log.txt")
    FileManager.default.createFile(atPath: log.path, contents: nil)
    let p = Process()
    p.executableURL = TestPaths.moonlab
    p.arguments = ["run", "--out", dir.appendingPathComponent("run").path, path]
    p.standardOutput = try FileHandle(forWritingTo: log)
    p.standardError = FileHandle.nullDevice
    try p.run()
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline, !(try String(contentsOf: log, encoding: .utf8)).contains("first line")
    {
      usleep(50_000)
    }
    kill(p.processIdentifier, SIGKILL)
    p.waitUntilExit()
    XCTAssertEqual(try String(contentsOf: log, encoding: .utf8), "first line\n")
  }

  /// Runaway recursion through Swift-bound calls: one short message (the repeated
  /// prefixes counted, not printed 200 times) and one traceback, not one per level.
  func testRecursionErrorIsShortAndPrintedOnce() throws {
    let recursive = try script(
      "deep.lua",
      """
      local M = nn.define{name = 'M', forward = function(self, x) return self.inner(x) end}
      local m = M()
      m.inner = nn.Sequential{m}
      m(tensor.ones{2})
      """)
    let through = try script(
      "nograd.lua",
      "local function f(n) return tensor.no_grad(function() return f(n + 1) end) end\nf(1)\n")
    for path in [recursive, through] {
      let r = try moonlab(["run", path])
      XCTAssertEqual(r.status, 1)
      XCTAssertLessThan(r.stderr.utf8.count, 4000, r.stderr)
      XCTAssertTrue(r.stderr.contains("more times …]"), r.stderr)
      XCTAssertTrue(r.stderr.contains("stack overflow"), r.stderr)
      XCTAssertEqual(r.stderr.components(separatedBy: "stack traceback:").count, 2, r.stderr)
    }
  }

  /// Ctrl-C (SIGINT) or SIGTERM during lab.fit: the run is recorded as interrupted
  /// (config.json, report), the finished epochs' metrics are kept, and the exit code is
  /// 128 + the signal, even when the script wraps the work in pcall.
  func testSignalsAreRecordedAsInterrupted() throws {
    guard FileManager.default.isExecutableFile(atPath: TestPaths.moonlab.path) else {
      throw XCTSkip("build the moonlab product first (swift build): \(TestPaths.moonlab.path)")
    }
    let path = try script(
      "slow.lua",
      """
      local x = tensor.randn{32, 4}
      local slow = data.Lambda(function(v) local t = os.clock() while os.clock() - t < 0.02 do end return v end)
      local train = data.Loader(data.tensors(x, tensor.ones{32}), {batch_size = 8, transform = slow})
      local m = nn.Linear(4, 2)
      while true do
        pcall(lab.fit, {model = m, optimizer = optim.SGD(m:parameters(), {lr = 0.1}),
          loss = nn.CrossEntropyLoss(), train = train, epochs = 1000})
      end
      """)
    for (signal, code) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143))] {
      let dir = try TestPaths.temporaryDirectory().appendingPathComponent("run")
      let log = dir.deletingLastPathComponent().appendingPathComponent("log.txt")
      FileManager.default.createFile(atPath: log.path, contents: nil)
      let p = Process()
      p.executableURL = TestPaths.moonlab
      p.arguments = ["run", "--out", dir.path, path]
      p.standardOutput = try FileHandle(forWritingTo: log)
      p.standardError = FileHandle.nullDevice
      try p.run()
      let deadline = Date().addingTimeInterval(30)
      while Date() < deadline,
        !(try String(contentsOf: log, encoding: .utf8)).contains("epoch    2/1000")
      {
        usleep(50_000)
      }
      kill(p.processIdentifier, signal)
      p.waitUntilExit()
      XCTAssertEqual(p.terminationStatus, code, "signal \(signal)")
      let config = read(dir.appendingPathComponent("config.json"))
      XCTAssertTrue(config.contains("\"status\": \"interrupted\""), config)
      XCTAssertTrue(read(dir.appendingPathComponent("report.html")).contains("interrupted by"))
      XCTAssertGreaterThanOrEqual(
        MetricsLog.read(dir.appendingPathComponent("metrics.jsonl")).count, 2)
      XCTAssertFalse(
        FileManager.default.fileExists(atPath: dir.appendingPathComponent("DONE").path))
    }
  }

  /// os.exit ends the script but not the record: os.exit(3) is a failed run with exit
  /// code 3, os.exit(0) a finished one; pcall can't swallow it.
  func testOsExitIsRecorded() throws {
    for (code, status, done) in [(3, "failed", false), (0, "finished", true)] {
      let dir = try TestPaths.temporaryDirectory().appendingPathComponent("run")
      let path = try script(
        "exit.lua", "lab.log{step = 1, x = 1}\npcall(os.exit, \(code))\nprint('after')\n")
      let r = try moonlab(["run", "--out", dir.path, path])
      XCTAssertEqual(r.status, Int32(code), r.stderr)
      XCTAssertFalse(r.stdout.contains("after"), r.stdout)
      let config = read(dir.appendingPathComponent("config.json"))
      XCTAssertTrue(config.contains("\"status\": \"\(status)\""), config)
      XCTAssertEqual(
        FileManager.default.fileExists(atPath: dir.appendingPathComponent("DONE").path), done)
    }
  }

  /// --sandbox without --time-limit still has a wall-time cap (the README promised one).
  func testSandboxHasADefaultTimeLimit() throws {
    let dir = try TestPaths.temporaryDirectory().appendingPathComponent("run")
    let path = try script("quick.lua", "print('ok')\n")
    let r = try moonlab(["run", "--sandbox", "--out", dir.path, path])
    XCTAssertEqual(r.status, 0, r.stderr)
    let config = try XCTUnwrap(try JSON.read(dir.appendingPathComponent("config.json")))
    XCTAssertEqual(config["time_limit_seconds"]?.double, 3600)
  }

  /// An error inside a loader transform is printed with one traceback, not one per
  /// Swift-bound call it passed through.
  func testTransformErrorHasOneTraceback() throws {
    let path = try script(
      "transform.lua",
      """
      local ds = data.tensors(tensor.randn{8, 2}, tensor.ones{8})
      local bad = data.Lambda(function(x) error('bad transform') end)
      for x, y in data.Loader(ds, {batch_size = 4, transform = bad}):batches() do end
      """)
    let r = try moonlab(["run", path])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("transform.lua:2: bad transform"), r.stderr)
    XCTAssertEqual(r.stderr.components(separatedBy: "stack traceback:").count, 2, r.stderr)
  }
}
