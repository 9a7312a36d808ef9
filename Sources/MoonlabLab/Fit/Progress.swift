import Foundation

/// Progress within one epoch on stderr: a redrawn bar with images/s and ETA when stderr
/// is a terminal, otherwise a plain line every 10 seconds (logs, Slurm output files).
final class Progress {
  let label: String
  let total: Int
  private let start = Date()
  /// A terminal sees the bar at once; a log file its first line after 10 s.
  private lazy var lastDraw = terminal ? Date.distantPast : start
  private let terminal = isatty(2) == 1

  init(label: String, total: Int) {
    self.label = label
    self.total = total
  }

  func update(batches done: Int, samples: Int, loss: Double) {
    let now = Date()
    let interval: TimeInterval = terminal ? 0.1 : 10
    guard now.timeIntervalSince(lastDraw) >= interval || (terminal && done == total) else { return }
    lastDraw = now
    let elapsed = now.timeIntervalSince(start)
    let rate = elapsed > 0 ? Double(samples) / elapsed : 0
    let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
    let stats =
      "\(done)/\(total)  " + String(format: "%.0f img/s", rate) + "  ETA \(Progress.clock(eta))  "
      + String(format: "loss %.4f", loss)
    if terminal {
      let width = 28
      let filled = total > 0 ? width * done / total : 0
      let bar =
        String(repeating: "=", count: filled) + (filled < width ? ">" : "")
        + String(repeating: " ", count: max(0, width - filled - 1))
      write("\r\(label) [\(bar)] \(stats)\u{1B}[K")
    } else {
      write("\(label): \(stats)\n")
    }
  }

  /// Clears the bar so the epoch's summary line starts on a clean line.
  func finish() {
    if terminal { write("\r\u{1B}[K") }
  }

  private func write(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }

  static func clock(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    return s >= 3600
      ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
      : String(format: "%d:%02d", s / 60, s % 60)
  }
}
