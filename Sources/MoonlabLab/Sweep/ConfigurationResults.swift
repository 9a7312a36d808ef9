import Foundation

/// The finished replicates of one configuration of a sweep with `repeats` (docs/lab.md,
/// "Repeats"): mean ± std per result key, the best replicate, and mean curves.
struct ConfigurationResults {
  let cfg: [JSON.Field]
  /// In replicate order.
  let trials: [(trial: Trial, result: JSON)]

  /// Groups trials by configuration, in the order each configuration first appears.
  static func group(_ entries: [(trial: Trial, result: JSON)]) -> [ConfigurationResults] {
    var order: [String] = []
    var byKey: [String: [(trial: Trial, result: JSON)]] = [:]
    for e in entries.sorted(by: { $0.trial.index < $1.trial.index }) {
      let key = JSON.object(e.trial.cfg).serialized()
      if byKey[key] == nil { order.append(key) }
      byKey[key, default: []].append(e)
    }
    return order.compactMap { key in
      byKey[key].flatMap { trials in
        trials.first.map { ConfigurationResults(cfg: $0.trial.cfg, trials: trials) }
      }
    }
  }

  var n: Int { trials.count }
  var label: String { trials.first?.trial.label ?? "" }

  /// Mean ± std over the replicates that have `key` as a number.
  func stats(_ key: String) -> MeanStd? {
    MeanStd(trials.compactMap { $0.result[key]?.double })
  }

  /// A result key's value for the configuration: the mean when numeric, else the value
  /// every replicate shares (nil when they differ).
  func summary(_ key: String) -> JSON? {
    if let s = stats(key) { return .number(s.mean) }
    let values = trials.map { $0.result[key] }
    return values.allSatisfy({ $0 == values.first }) ? values.first ?? nil : nil
  }

  /// The replicate with the best `metric` (the first of equals).
  func best(_ metric: String, maximize: Bool) -> (trial: Trial, result: JSON)? {
    func rank(_ e: (trial: Trial, result: JSON)) -> Double {
      SweepResults.rankKey(e.result[metric]?.double, maximize: maximize)
    }
    return trials.reduce(nil) { best, t in
      guard let best else { return t }
      return rank(t) > rank(best) ? t : best
    }
  }

  /// The mean over replicates of `key` at each x of the logged lines (an x some
  /// replicate lacks averages the ones that have it).
  static func meanCurve(_ logs: [[JSON]], key: String) -> (x: [Double], y: [Double]) {
    var sums: [Double: (sum: Double, count: Int)] = [:]
    for lines in logs {
      let (xs, ys) = MetricsCharts.points(lines, key: key, x: MetricsCharts.xKey(lines))
      for (x, y) in zip(xs, ys) {
        let s = sums[x] ?? (0, 0)
        sums[x] = (s.sum + y, s.count + 1)
      }
    }
    let xs = sums.keys.sorted()
    return (xs, xs.map { sums[$0].map { $0.sum / Double($0.count) } ?? .nan })
  }
}
