/// The best value of one epoch metric so far, for lab.fit's `early_stop` and `keep_best`
/// (docs/lab.md). A value is better than the best when it is lower by more than `minDelta`
/// (mode min) or higher by more than `minDelta` (mode max); NaN never is.
struct BestMetric {
  enum Mode: String, CaseIterable { case min, max }

  let metric: String
  let mode: Mode
  let minDelta: Double
  private(set) var best: Double?
  private(set) var bestEpoch = 0
  /// Epochs since the best one.
  private(set) var epochsWithout = 0

  /// Accuracies are maximised, anything else (losses) minimised, unless `mode` says.
  init(metric: String, mode: Mode?, minDelta: Double = 0) {
    self.metric = metric
    self.mode = mode ?? (metric.hasSuffix("acc") || metric.hasSuffix("accuracy") ? .max : .min)
    self.minDelta = minDelta
  }

  /// Where the tracking stands, for a resume checkpoint (TrainState).
  struct Position: Equatable {
    var best: Double?
    var bestEpoch: Int
    var epochsWithout: Int
  }

  var position: Position {
    Position(best: best, bestEpoch: bestEpoch, epochsWithout: epochsWithout)
  }

  /// Continues from a checkpoint's position.
  mutating func restore(_ p: Position) {
    (best, bestEpoch, epochsWithout) = (p.best, p.bestEpoch, p.epochsWithout)
  }

  /// Takes epoch `epoch`'s value; true when it is the new best.
  mutating func update(_ value: Double, epoch: Int) -> Bool {
    let better: Bool
    if let best {
      better = mode == .min ? value < best - minDelta : value > best + minDelta
    } else {
      better = !value.isNaN
    }
    if better {
      best = value
      bestEpoch = epoch
      epochsWithout = 0
    } else {
      epochsWithout += 1
    }
    return better
  }
}
