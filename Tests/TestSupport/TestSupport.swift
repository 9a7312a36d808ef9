import Foundation
import MoonlabTensor

/// Paths tests share: the repository, the shared data folder, and built products.
public enum TestPaths {
  /// The repository root (this file is Tests/TestSupport/TestSupport.swift).
  public static let repository = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// `$MOONLAB_DATA`, else `<repo>/../shared/data`; nil when neither exists.
  public static var data: URL? {
    let env = ProcessInfo.processInfo.environment["MOONLAB_DATA"].map { URL(fileURLWithPath: $0) }
    let candidates = [env, repository.deletingLastPathComponent().appendingPathComponent("shared/data")]
    return candidates.compactMap { $0 }.first { FileManager.default.fileExists(atPath: $0.path) }
  }

  /// The folder holding the test bundle and the built executables (`moonlab`).
  public static var products: URL {
    URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
  }

  /// The `moonlab` executable built next to the tests.
  public static var moonlab: URL { products.appendingPathComponent("moonlab") }

  /// A fresh temporary directory.
  public static func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("moonlab-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}

/// Runs a program to completion and captures its output.
public struct ProcessResult {
  public let status: Int32
  public let stdout: String
  public let stderr: String
}

public func runProcess(
  _ executable: URL, _ arguments: [String], environment: [String: String]? = nil,
  currentDirectory: URL? = nil, stdin: String? = nil
) throws -> ProcessResult {
  let p = Process()
  p.executableURL = executable
  p.arguments = arguments
  if let environment { p.environment = environment }
  if let currentDirectory { p.currentDirectoryURL = currentDirectory }
  let out = Pipe(), err = Pipe(), inp = Pipe()
  p.standardOutput = out
  p.standardError = err
  p.standardInput = inp
  try p.run()
  if let stdin { inp.fileHandleForWriting.write(Data(stdin.utf8)) }
  try inp.fileHandleForWriting.close()
  // Read both pipes before waiting so a chatty child can't block on a full pipe.
  var outData = Data(), errData = Data()
  let group = DispatchGroup()
  group.enter()
  DispatchQueue.global().async {
    errData = err.fileHandleForReading.readDataToEndOfFile()
    group.leave()
  }
  outData = out.fileHandleForReading.readDataToEndOfFile()
  group.wait()
  p.waitUntilExit()
  return ProcessResult(
    status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
    stderr: String(decoding: errData, as: UTF8.self))
}
