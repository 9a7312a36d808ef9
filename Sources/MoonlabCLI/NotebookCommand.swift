import ArgumentParser
import Foundation
import MoonlabLab
import MoonlabLua
import MoonlabTensor

struct NotebookCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "notebook",
    abstract: "Run a script cell by cell into notebook.html and notebook.ipynb, or convert it.",
    discussion: """
      Cells: a line `--%%` starts a code cell, `--%% [markdown]` a markdown cell made of the
      Lua comment lines after it. Without --to-ipynb/--from-ipynb the script runs in one Lua
      state and the notebooks are written into the run directory (exit 1 if a cell fails).
      """)

  @Flag(help: "Convert the script to a notebook without running it.") var toIpynb = false
  @Flag(help: "Convert a notebook back to a Lua script with cell markers.") var fromIpynb = false
  @Option(
    name: [.short, .customLong("output")],
    help: "Where a conversion writes (default: next to the input).")
  var output: String?
  @Option(help: "Run directory (default: runs/NAME-YYYYmmdd-HHMMSS).") var out: String?
  @OptionGroup var options: ScriptOptions

  func run() throws {
    let inputURL = URL(fileURLWithPath: options.script)
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
    } catch let e as TensorError {  // the output could not be written
      throw fail(e.description, code: 2)
    }

    var request = try options.request()
    request.outDir = out
    let result: NotebookRunner.Result
    do {
      result = try NotebookRunner().run(request)
    } catch let e as ScriptNotFound {
      throw fail(e.description, code: 2)
    } catch {
      throw fail(String(describing: error), code: 1)  // e.g. --out holds a finished run
    }
    try NotebookFiles.write(result, title: request.scriptName)
    let html = result.dir.appendingPathComponent("notebook.html").path
    FileHandle.standardError.write(Data("moonlab: notebook in \(html) and notebook.ipynb\n".utf8))
    if let error = result.error {
      FileHandle.standardError.write(Data((error + "\n").utf8))
      throw ExitCode(1)
    }
  }
}

extension URL {
  fileprivate func replacingExtension(_ ext: String) -> URL {
    deletingPathExtension().appendingPathExtension(ext)
  }
}
