import Foundation

/// Runs a program found on PATH (git, sbatch, squeue, scancel) to its end and returns its
/// exit status and output; 127 when it isn't installed, as a shell would say.
enum ExternalCommand {
  struct Result {
    let status: Int32
    let output: String
    let errors: String
  }

  /// What the stderr thread read; the semaphore orders its write before our read.
  private final class Drained: @unchecked Sendable { var data = Data() }

  static func run(_ name: String, _ arguments: [String], environment: [String: String] = [:])
    -> Result
  {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [name] + arguments
    if !environment.isEmpty {
      p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = FileHandle.nullDevice
    do { try p.run() } catch { return Result(status: 127, output: "", errors: "\(error)") }
    // Both pipes drained at once: a large output on either would otherwise block the child.
    let errors = Drained()
    let errDone = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
      errors.data = err.fileHandleForReading.readDataToEndOfFile()
      errDone.signal()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    errDone.wait()
    p.waitUntilExit()
    return Result(
      status: p.terminationStatus, output: String(decoding: outData, as: UTF8.self),
      errors: String(decoding: errors.data, as: UTF8.self))
  }
}
