import Foundation
import MoonlabTensor

/// `startup`: the wall time of a fresh `moonlab` process (issue 17), from spawning it to
/// reaping it: `moonlab run` of an empty script — loading, the Lua host with every library,
/// the run directory and its records — and `moonlab --version`. bench/torch/startup_bench.py
/// times `python -c "import torch"` under the first name.
enum StartupBench {
  static let repeats = 20

  static func run() throws {
    let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "moonlab-startup-\(getpid())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let script = folder.appendingPathComponent("empty.lua")
    try Data().write(to: script)
    var runs = 0
    let empty = try medianMs {
      runs += 1
      return [exe, "run", script.path, "--out", folder.appendingPathComponent("run\(runs)").path]
    }
    Timing.report(
      "startup_empty_script", empty, "ms",
      "moonlab run of an empty script, run directory included; median of \(repeats)")
    let version = try medianMs { [exe, "--version"] }
    Timing.report("startup_version", version, "ms", "moonlab --version; median of \(repeats)")
  }

  /// Median milliseconds over `repeats` runs of the command `argv()` gives, after one
  /// warm-up run (which brings the executable's pages into the page cache).
  static func medianMs(_ argv: () -> [String]) throws -> Double {
    _ = try wallSeconds(argv())
    var times: [Double] = []
    for _ in 0..<repeats { times.append(try wallSeconds(argv())) }
    return times.sorted()[repeats / 2] * 1000
  }

  /// Seconds from spawning `argv` (output to /dev/null) to reaping it; a failing command
  /// is an error. posix_spawn and waitpid, not Foundation's Process, whose own threads and
  /// pipes would be counted too.
  static func wallSeconds(_ argv: [String]) throws -> Double {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let cArguments = argv.map { strdup($0) } + [nil]
    defer { cArguments.forEach { free($0) } }
    var pid: pid_t = 0
    let start = Timing.now()
    let rc = posix_spawn(&pid, argv[0], &actions, nil, cArguments, environ)
    guard rc == 0 else {
      throw TensorError("can't start \(argv[0]): \(String(cString: strerror(rc)))")
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let elapsed = Timing.now() - start
    guard status == 0 else {
      throw TensorError(
        "`\(argv.joined(separator: " "))` failed (wait status \(status)); run it to see why")
    }
    return elapsed
  }
}
