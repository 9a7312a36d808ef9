import Foundation

/// The mean and sample standard deviation (n − 1 in the denominator) of one value over a
/// configuration's replicates, shown as "0.9769 ± 0.0012": the std to two significant
/// digits and the mean to the same decimal place (docs/lab.md, "Repeats").
struct MeanStd: Equatable {
  let n: Int
  let mean: Double
  /// nil for a single value.
  let std: Double?

  init?(_ values: [Double]) {
    guard !values.isEmpty else { return nil }
    n = values.count
    let mean = values.reduce(0, +) / Double(values.count)
    self.mean = mean
    std =
      values.count > 1
      ? (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1))
        .squareRoot() : nil
  }

  /// Mean and std as text with matching decimals; without a positive finite std, the
  /// mean as report tables show numbers (and the std, 0 or NaN, as it is).
  var parts: (mean: String, std: String?) {
    guard let std, std > 0, std.isFinite, mean.isFinite else {
      return (ReportWriter.cell(.number(mean)), std.map { JSON.format($0) })
    }
    let decimals = min(15, max(0, 1 - Int(floor(log10(std)))))
    return (String(format: "%.\(decimals)f", mean), String(format: "%.\(decimals)f", std))
  }

  var text: String {
    let (m, s) = parts
    return s.map { "\(m) ± \($0)" } ?? m
  }
}
