import Foundation
import MoonlabTensor

/// The files behind `moonlab notebook`: the run's notebook.html and notebook.ipynb, and
/// the script ⇄ .ipynb conversions.
public enum NotebookFiles {
  /// Writes notebook.html and notebook.ipynb into the run directory.
  public static func write(_ result: NotebookRunner.Result, title: String) throws {
    let dir = result.dir
    try AtomicFile.write(
      try Ipynb.encode(Ipynb.notebook(result.script, runs: result.runs)),
      to: dir.appendingPathComponent("notebook.ipynb"))
    try AtomicFile.write(
      NotebookHTML.render(result, title: title), to: dir.appendingPathComponent("notebook.html"))
  }

  /// `--to-ipynb`: the script as a notebook without outputs.
  public static func convertToIpynb(script: URL, output: URL) throws {
    guard let data = FileManager.default.contents(atPath: script.path) else {
      throw Ipynb.FormatError(description: "cannot open \(script.path)")
    }
    let cells = CellScript(parsing: String(decoding: data, as: UTF8.self))
    try refuseOverwriting(input: script, with: output)
    try AtomicFile.write(try Ipynb.encode(Ipynb.notebook(cells)), to: output)
  }

  /// `--from-ipynb`: the notebook as a Lua script with cell markers.
  public static func convertFromIpynb(notebook: URL, output: URL) throws {
    guard let data = FileManager.default.contents(atPath: notebook.path) else {
      throw Ipynb.FormatError(description: "cannot open \(notebook.path)")
    }
    try refuseOverwriting(input: notebook, with: output)
    do {
      try AtomicFile.write(Data(try Ipynb.script(fromNotebook: data).utf8), to: output)
    } catch let e as Ipynb.FormatError {
      throw Ipynb.FormatError(description: "\(notebook.path): \(e.description)")
    }
  }

  /// A conversion never replaces its own input (`--to-ipynb x.lua -o x.lua` would lose the
  /// script): the same path, or another name for the same file (a link).
  static func refuseOverwriting(input: URL, with output: URL) throws {
    var a = stat()
    var b = stat()
    let same =
      input.standardizedFileURL.path == output.standardizedFileURL.path
      || (stat(input.path, &a) == 0 && stat(output.path, &b) == 0 && a.st_dev == b.st_dev
        && a.st_ino == b.st_ino)
    if same {
      throw Ipynb.FormatError(
        description:
          "refusing to overwrite the input \(input.path) with its conversion: choose another --output"
      )
    }
  }
}
