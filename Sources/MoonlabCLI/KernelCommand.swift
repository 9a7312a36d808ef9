import ArgumentParser
import Foundation
import MoonlabLab

/// `moonlab kernel install|serve`: the Jupyter kernel (see docs/notebook.md).
struct KernelCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "kernel",
    abstract: "The Jupyter kernel: install its spec, or serve (used by the kernel).",
    subcommands: [Install.self, Serve.self])

  struct Install: ParsableCommand {
    // Named here, or every start derives it from the type's name with String(describing:),
    // a scan of all protocol conformances (docs/architecture.md, "Start-up and the release binary").
    static let configuration = CommandConfiguration(
      commandName: "install",
      abstract: "Register the Jupyter kernel spec 'moonlab' (needs a Python with ipykernel).")

    @Flag(help: "Install for this user only (~/.local/share/jupyter).") var user = false
    @Option(help: "Install under PREFIX/share/jupyter (e.g. a virtual environment).") var prefix:
      String?
    @Option(help: "The Python interpreter that has ipykernel.") var python = "python3"

    func run() throws {
      let location: KernelSpec.Location = prefix.map { .prefix($0) } ?? (user ? .user : .system)
      let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
      let dir = try KernelSpec.install(at: location, moonlab: exe, python: python)
      print("installed kernel spec 'moonlab' in \(dir.path)")
    }
  }

  struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "serve",
      abstract: "Run Lua requests from stdin, one JSON line each (the kernel's child process).")

    @Option(help: "Run directory (default: runs/kernel-YYYYmmdd-HHMMSS).") var out: String?

    func run() throws {
      var request = RunRequest(scriptPath: "kernel")
      request.outDir = out
      try KernelServer.serve(request)
    }
  }
}
