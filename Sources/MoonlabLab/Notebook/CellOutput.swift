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

/// Where printed text and report items go. `moonlab notebook` and the Jupyter kernel set
/// `sink` while cells run; in `moonlab run` it is nil and text goes to stdout.
///
/// Library code that shows something to the user calls these instead of printing:
/// `write` for text lines (progress summaries), `display` for rich items (every
/// `report.*` call passes the item it adds to the report, e.g. `["image/svg+xml": svg]`).
public enum CellOutputs {
  public static var sink: CellOutputSink?

  /// Text for the user: to the running cell when there is one, else to stdout.
  public static func write(_ text: String, stream: String = "stdout") {
    if let sink {
      sink.emit(.stream(name: stream, text: text))
    } else {
      // C stdio, like Lua's own io.write, so the two keep their order.
      var bytes = Array(text.utf8)
      fwrite(&bytes, 1, bytes.count, stdout)
    }
  }

  /// A rich item for the running cell; outside notebooks it only lives in the report.
  public static func display(_ bundle: [String: String]) {
    sink?.emit(.display(bundle))
  }
}
