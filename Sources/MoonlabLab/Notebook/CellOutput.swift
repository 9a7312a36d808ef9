import Foundation

/// One thing a notebook cell produced, in the order it was produced. The cases are
/// Jupyter's output types (nbformat 4.5), so the .ipynb writer and the kernel pass them
/// through unchanged.
public enum CellOutput: Equatable {
  /// Printed text; `name` is "stdout" or "stderr".
  case stream(name: String, text: String)
  /// A rich item keyed by MIME type: "image/svg+xml" (markup), "image/png" (base64),
  /// "text/html" (a fragment), "text/markdown", "text/plain" (the fallback).
  case display([String: String])
  /// The value of an expression typed into the kernel (text/plain).
  case result(String)
  /// A Lua error: the first line of the message, and the message with its traceback.
  case error(message: String, traceback: [String])

  /// A Lua error message as the host reports it ("file:line: msg\nstack traceback:\n…").
  public static func luaError(_ fullMessage: String) -> CellOutput {
    let lines = fullMessage.split(separator: "\n", omittingEmptySubsequences: false).map(
      String.init)
    return .error(message: lines.first ?? fullMessage, traceback: lines)
  }
}

/// Receives the outputs of the cell that is running now.
public protocol CellOutputSink: AnyObject {
  func emit(_ output: CellOutput)
}

/// Where one session's printed text goes: to the running cell while `moonlab notebook` or
/// the Jupyter kernel has set `sink`, else to stdout. Each `LabSession` owns one, so two
/// sessions in one process never print into each other's cells.
///
/// Library code that shows text to the user (progress summaries, trial lines, data
/// notices) calls `write` instead of printing, and `display` for rich items.
public final class CellOutputs {
  public weak var sink: CellOutputSink?

  /// Text for the user: to the running cell when there is one, else to stdout (C stdio,
  /// like Lua's own io.write, so the two keep their order) or stderr.
  public func write(_ text: String, stream: String = "stdout") {
    if let sink {
      sink.emit(.stream(name: stream, text: text))
    } else {
      var bytes = Array(text.utf8)
      fwrite(&bytes, 1, bytes.count, stream == "stderr" ? stderr : stdout)
    }
  }

  /// A rich item for the running cell, e.g. `["image/svg+xml": svg]`; outside notebooks
  /// it only lives in the report.
  public func display(_ bundle: [String: String]) {
    sink?.emit(.display(bundle))
  }
}
