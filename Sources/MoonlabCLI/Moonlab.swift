import ArgumentParser
import Foundation
import MoonlabLab
import MoonlabLua

/// The `moonlab` command tree; Sources/moonlab/main.swift calls `Moonlab.main()`.
public struct Moonlab: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "moonlab",
    abstract: "Run Lua deep-learning experiments on a Swift engine.",
    version: MoonlabVersion.string,
    subcommands: [
      RunCommand.self,
      SweepCommand.self,
      RerunCommand.self,
      ResumeCommand.self,
      ReportCommand.self,
      CompareCommand.self,
      ReplCommand.self,
      DataCommand.self,
      NotebookCommand.self,
      KernelCommand.self,
      BenchCommand.self,
    ])

  public init() {}

  /// Standard output is line-buffered even into a file or pipe, so a run stopped by a
  /// signal has printed every finished line (epoch lines were lost with `> log`).
  public static func main() {
    // `--version` answers before ArgumentParser builds its command tree, which costs more
    // than the rest of such a run (docs/architecture.md, "Start-up and the release binary").
    if CommandLine.arguments.dropFirst() == ["--version"] {
      print(MoonlabVersion.string)
      return
    }
    setvbuf(stdout, nil, _IOLBF, 0)
    // `moonlab run` parses only its own options: building the whole command tree, and
    // ArgumentParser's check for a completion-script request, took a fifth of an empty run.
    // Plain arguments skip ArgumentParser altogether (RunCommand.parsePlain).
    if CommandLine.arguments.dropFirst().first == "run" {
      let arguments = Array(CommandLine.arguments.dropFirst(2))
      do {
        if let plain = RunCommand.parsePlain(arguments) {
          try RunCommand.run(plain)
        } else {
          var command = try RunCommand.parseAsRoot(arguments)
          try command.run()
        }
      } catch {
        // Parsed on its own, the command calls itself "run" where users type "moonlab run".
        let message = RunCommand.fullMessage(for: error).replacingOccurrences(
          of: "See 'run ", with: "See 'moonlab run ")
        let code = RunCommand.exitCode(for: error)
        if !message.isEmpty {
          FileHandle(fileDescriptor: code == .success ? 1 : 2).write(Data((message + "\n").utf8))
        }
        Glibc.exit(code.rawValue)
      }
      return
    }
    main(nil)
  }
}

/// Prints an error for the user and leaves with `code`: 1 for script errors, 2 for a
/// missing script or bad usage.
func fail(_ message: String, code: Int32) -> ExitCode {
  FileHandle.standardError.write(Data(("moonlab: " + message + "\n").utf8))
  return ExitCode(code)
}

/// Runs a request the way every command does: a missing script exits 2, a failing one
/// prints its error (with traceback) and exits 1.
@discardableResult
func execute(_ request: RunRequest) throws -> URL? {
  Interrupts.install()
  do {
    return try ScriptRunner.run(request)
  } catch let e as ScriptNotFound {
    throw fail(e.description, code: 2)
  } catch let e as ScriptFailed {
    var message = e.message
    if let dir = e.runDir {
      message += "\n(report: \(dir.appendingPathComponent("report.html").path))"
    }
    FileHandle.standardError.write(Data((message + "\n").utf8))
    throw ExitCode(e.exitCode)
  } catch {
    throw fail(String(describing: error), code: 1)
  }
}
