import ArgumentParser
import Foundation
import MoonlabLab
import MoonlabLua

/// The options of a script run, shared by commands that run a script as `moonlab run`
/// does.
struct ScriptRunOptions: ParsableArguments {
  @Option(help: "Seed of the run's random generator.") var seed: UInt64 = 0
  @Option(help: "Threads for OpenBLAS and Moonlab's kernels.")
  var threads: Int = ProcessInfo.processInfo.activeProcessorCount
  @Option(name: .customLong("set"), help: "key=value into lab.config (repeatable).")
  var settings: [String] = []
  @Flag(help: "Restricted standard library, memory and time caps (scripts from elsewhere).")
  var sandbox = false

  func request(script: String, arguments: [String] = []) throws -> RunRequest {
    var request = RunRequest(scriptPath: script)
    request.arguments = arguments
    request.seed = seed
    request.threads = threads
    request.sandbox = sandbox
    for s in settings {
      guard let eq = s.firstIndex(of: "="), eq != s.startIndex else {
        throw fail("--set expects key=value, got '\(s)'", code: 2)
      }
      request.config.append(
        (String(s[..<eq]), ConfigValue(parsing: String(s[s.index(after: eq)...]))))
    }
    return request
  }
}

struct NotebookCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "notebook",
    abstract: "Run a script cell by cell into notebook.html and notebook.ipynb, or convert it.",
    discussion: """
      Cells: a line `--%%` starts a code cell, `--%% [markdown]` a markdown cell made of the
      Lua comment lines after it. Without --to-ipynb/--from-ipynb the script runs in one Lua
      state and the notebooks are written into the run directory (exit 1 if a cell fails).
      """)

  @Argument(help: "The Lua script (or, with --from-ipynb, the notebook).") var input: String
  @Flag(help: "Convert the script to a notebook without running it.") var toIpynb = false
  @Flag(help: "Convert a notebook back to a Lua script with cell markers.") var fromIpynb = false
  @Option(
    name: [.short, .customLong("output")],
    help: "Where a conversion writes (default: next to the input).")
  var output: String?
  @Option(help: "Run directory (default: runs/NAME-YYYYmmdd-HHMMSS).") var out: String?
  @OptionGroup var options: ScriptRunOptions
  @Argument(parsing: .postTerminator, help: "Arguments passed to the script (after --).")
  var scriptArguments: [String] = []

  func run() throws {
    let inputURL = URL(fileURLWithPath: input)
    do {
      if toIpynb {
        try NotebookFiles.convertToIpynb(
          script: inputURL,
          output: output.map(URL.init(fileURLWithPath:)) ?? inputURL.replacingExtension("ipynb"))
        return
      }
      if fromIpynb {
        try NotebookFiles.convertFromIpynb(
          notebook: inputURL,
          output: output.map(URL.init(fileURLWithPath:)) ?? inputURL.replacingExtension("lua"))
        return
      }
    } catch let e as Ipynb.FormatError {
      throw fail(e.description, code: 2)
    }

    let request = try options.request(script: input, arguments: scriptArguments)
    let result: NotebookRunner.Result
    do {
      result = try NotebookRunner().run(request)
    } catch let e as ScriptNotFound {
      throw fail(e.description, code: 2)
    }
    let name = inputURL.deletingPathExtension().lastPathComponent
    let dir = out.map(URL.init(fileURLWithPath:)) ?? defaultRunDirectory(name)
    try NotebookFiles.write(result, to: dir, title: name)
    FileHandle.standardError.write(
      Data("notebook: \(dir.path)/notebook.html, notebook.ipynb\n".utf8))
    if let error = result.error {
      FileHandle.standardError.write(Data((error + "\n").utf8))
      throw ExitCode(1)
    }
  }

  private func defaultRunDirectory(_ name: String) -> URL {
    let f = DateFormatter()
    f.dateFormat = "yyyyMMdd-HHmmss"
    f.locale = Locale(identifier: "en_US_POSIX")
    return URL(fileURLWithPath: "runs/\(name)-\(f.string(from: Date()))")
  }
}

extension URL {
  fileprivate func replacingExtension(_ ext: String) -> URL {
    deletingPathExtension().appendingPathExtension(ext)
  }
}
