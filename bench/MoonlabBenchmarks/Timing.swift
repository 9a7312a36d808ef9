import Foundation

/// Wall-clock timing helpers. Machines are small and noisy: report medians.
enum Timing {
  static func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
  }

  /// Median seconds of `repeats` runs of `body`, after one warm-up run.
  static func median(repeats: Int = 7, _ body: () throws -> Void) rethrows -> Double {
    try body()
    var times: [Double] = []
    for _ in 0..<repeats {
      let t0 = now()
      try body()
      times.append(now() - t0)
    }
    times.sort()
    return times[times.count / 2]
  }

  /// One result line: `name: value unit (details)`, the format bench/run.sh parses.
  static func report(_ name: String, _ value: Double, _ unit: String, _ details: String = "") {
    print(
      String(format: "%@: %.4g %@%@", name, value, unit, details.isEmpty ? "" : " (\(details))"))
  }
}
