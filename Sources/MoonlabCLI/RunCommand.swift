import ArgumentParser
import Foundation
import MoonlabLab
import MoonlabLua

struct RunCommand: ParsableCommand {
  // `_superCommandName`: `moonlab run` is also parsed on its own, without the command tree
  // (Moonlab.main), and its usage and help still say "moonlab run".
  static let configuration = CommandConfiguration(
    commandName: "run", _superCommandName: "moonlab",
    abstract: "Run a Lua experiment script, recording it in a run directory.",
    version: MoonlabVersion.string)

  @OptionGroup var options: ScriptOptions
  @Option(help: "Run directory (default: runs/NAME-YYYYmmdd-HHMMSS).") var out: String?
  @Option(
    parsing: .unconditional,
    help: "Train data-parallel over this many processes, started with Open MPI's mpirun.")
  var np: Int?

  /// What a parsed `moonlab run` acts on (ArgumentParser's reading or `parsePlain`'s).
  struct Arguments: Equatable {
    var options: ScriptArguments
    var out: String?
    var np: Int?

    func validate() throws {
      try options.validate()
      if let np, !(1...4096).contains(np) {
        throw ValidationError("--np must be from 1 to 4096, got \(np)")
      }
    }
  }

  var arguments: Arguments { Arguments(options: options.arguments, out: out, np: np) }

  func validate() throws { try arguments.validate() }

  func run() throws { try Self.run(arguments) }

  static func run(_ arguments: Arguments) throws {
    let (options, out) = (arguments.options, arguments.out)
    if let np = arguments.np {
      // Said once here, not once per rank.
      guard FileManager.default.isReadableFile(atPath: options.script) else {
        throw fail(ScriptNotFound(path: options.script).description, code: 2)
      }
      // Without --threads each rank gets its share of the cores, not all of them.
      var forwarded = options.forwarded
      let threadsGiven = CommandLine.arguments.contains {
        $0 == "--threads" || $0.hasPrefix("--threads=")
      }
      if !threadsGiven, let i = forwarded.firstIndex(of: "--threads") {
        forwarded[i + 1] = String(max(1, ScriptOptions.cores / np))
      }
      let rest = options.scriptArguments.isEmpty ? [] : ["--"] + options.scriptArguments
      try MPIRun.exec(
        ranks: np,
        arguments: ["run", options.script] + forwarded + (out.map { ["--out", $0] } ?? []) + rest)
    }
    var request = try options.request()
    request.outDir = out
    try execute(request)
  }
}
