import Foundation
import TestSupport
import XCTest

@testable import MoonlabLab

/// Writes a Lua script into `folder` and returns its path.
@discardableResult
func writeScript(_ code: String, _ name: String, in folder: URL) throws -> String {
  let url = folder.appendingPathComponent(name)
  try code.write(to: url, atomically: true, encoding: .utf8)
  return url.path
}

func read(_ url: URL) -> String {
  (try? String(contentsOf: url, encoding: .utf8)) ?? ""
}

func exists(_ url: URL, _ file: String) -> Bool {
  FileManager.default.fileExists(atPath: url.appendingPathComponent(file).path)
}

/// The `moonlab` executable built next to the test bundle.
func moonlabBinary() throws -> URL {
  guard FileManager.default.isExecutableFile(atPath: TestPaths.moonlab.path) else {
    throw XCTSkip("build the moonlab product first (swift build): \(TestPaths.moonlab.path)")
  }
  return TestPaths.moonlab
}

/// Starts `moonlab ARGS` in `cwd` with stdout and stderr going to `log` (for tests that
/// kill it midway).
func startMoonlab(
  _ arguments: [String], in cwd: URL, log: URL, environment: [String: String] = [:]
) throws -> Process {
  let p = Process()
  p.executableURL = try moonlabBinary()
  p.arguments = arguments
  p.currentDirectoryURL = cwd
  if !environment.isEmpty {
    p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
  }
  FileManager.default.createFile(atPath: log.path, contents: nil)
  let handle = try FileHandle(forWritingTo: log)
  p.standardOutput = handle
  p.standardError = handle
  try p.run()
  return p
}

/// Runs `moonlab ARGS` in `cwd` to the end; `output` is stdout then stderr.
func runMoonlab(_ arguments: [String], in cwd: URL, environment: [String: String] = [:]) throws -> (
  status: Int32, output: String
) {
  let r = try runProcess(
    try moonlabBinary(), arguments,
    environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
    currentDirectory: cwd)
  return (r.status, r.stdout + r.stderr)
}

/// Runs a script in this process with a run directory at `out` and one thread.
@discardableResult
func runInProcess(_ script: String, out: URL, configure: (inout RunRequest) -> Void = { _ in })
  throws -> URL?
{
  var request = RunRequest(scriptPath: script)
  request.threads = 1
  request.outDir = out.path
  configure(&request)
  return try ScriptRunner.run(request)
}

/// Every file under `dir` whose name marks an unfinished atomic write.
func leftoverTemporaryFiles(_ dir: URL) -> [String] {
  let all = FileManager.default.enumerator(atPath: dir.path)?.allObjects as? [String] ?? []
  return all.filter { $0.contains(".tmp-") }
}
