import Foundation
import XCTest

@testable import MoonlabLab

/// A fresh empty folder for one test.
func temporaryFolder(_ name: String = #function) throws -> URL {
  let base = FileManager.default.temporaryDirectory
    .appendingPathComponent("moonlab-lab-tests-\(getpid())")
    .appendingPathComponent(name.filter { $0.isLetter || $0.isNumber })
  try? FileManager.default.removeItem(at: base)
  try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
  return base
}

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
  let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
  let url = URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("moonlab")
  guard FileManager.default.isExecutableFile(atPath: url.path) else {
    throw XCTSkip("no moonlab executable at \(url.path) (build the package first)")
  }
  return url
}

struct Outcome {
  var status: Int32
  var output: String
}

/// Starts `moonlab ARGS` in `cwd` with stdout and stderr going to one file.
func startMoonlab(_ arguments: [String], in cwd: URL, log: URL, environment: [String: String] = [:])
  throws -> Process
{
  let p = Process()
  p.executableURL = try moonlabBinary()
  p.arguments = arguments
  p.currentDirectoryURL = cwd
  p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
  FileManager.default.createFile(atPath: log.path, contents: nil)
  let handle = try FileHandle(forWritingTo: log)
  p.standardOutput = handle
  p.standardError = handle
  try p.run()
  return p
}

/// Runs `moonlab ARGS` in `cwd` to the end.
func runMoonlab(_ arguments: [String], in cwd: URL, environment: [String: String] = [:]) throws
  -> Outcome
{
  let log = cwd.appendingPathComponent(".log-\(UUID().uuidString)")
  let p = try startMoonlab(arguments, in: cwd, log: log, environment: environment)
  p.waitUntilExit()
  defer { try? FileManager.default.removeItem(at: log) }
  return Outcome(status: p.terminationStatus, output: read(log))
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
