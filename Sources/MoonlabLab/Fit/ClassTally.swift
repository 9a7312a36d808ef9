import MoonlabTensor

/// What lab.fit and lab.evaluate count of a classifier's batches: class scores [N, C]
/// against 1-based labels [N]. The confusion matrix has rows = true class, columns =
/// predicted class (the argmax; the first of tied scores), both in class order; top-k
/// counts a sample when fewer than k classes score strictly higher than its label.
struct ClassTally {
  let classes: Int
  let k: Int
  /// classes × classes counts, row-major.
  private(set) var confusion: [Int]
  private(set) var topkHits = 0
  private(set) var samples = 0

  init(classes: Int, k: Int) {
    self.classes = classes
    self.k = k
    confusion = Array(repeating: 0, count: classes * classes)
  }

  /// A tally with these counts (another rank's, in data-parallel training).
  init(classes: Int, k: Int, topkHits: Int, samples: Int, confusion: [Int]) {
    (self.classes, self.k, self.topkHits, self.samples) = (classes, k, topkHits, samples)
    self.confusion = confusion
  }

  /// The labels as 0-based classes when `out` is class scores [N, C > 1] for them and
  /// every label is a class 1…C; nil otherwise (a regression or an autoencoder).
  static func labels(_ out: Tensor, _ labels: Tensor) -> [Int]? {
    guard out.rank == 2, out.shape[1] > 1, labels.count == out.shape[0] else { return nil }
    var result = [Int](repeating: 0, count: labels.count)
    for i in 0..<labels.count {
      guard let k = Int(exactly: labels.data[i]), k >= 1, k <= out.shape[1] else { return nil }
      result[i] = k - 1
    }
    return result
  }

  mutating func add(_ out: Tensor, labels: [Int]) {
    let c = classes
    for (i, label) in labels.enumerated() {
      let row = out.data + i * c
      var best = 0
      var higher = 0
      for j in 0..<c {
        if row[j] > row[best] { best = j }
        if row[j] > row[label] { higher += 1 }
      }
      confusion[label * c + best] += 1
      if higher < k { topkHits += 1 }
    }
    samples += labels.count
  }

  /// Adds another tally of the same classes.
  mutating func add(_ other: ClassTally) {
    for i in confusion.indices { confusion[i] += other.confusion[i] }
    topkHits += other.topkHits
    samples += other.samples
  }

  var correct: Int { (0..<classes).reduce(0) { $0 + confusion[$1 * classes + $1] } }
  var accuracy: Double { Double(correct) / Double(samples) }
  var topkAccuracy: Double { Double(topkHits) / Double(samples) }

  /// Per true class: the share of its samples predicted right (NaN for a class without
  /// samples).
  var perClassAccuracy: [Double] {
    (0..<classes).map { r in
      let row = confusion[(r * classes)..<((r + 1) * classes)]
      return Double(confusion[r * classes + r]) / Double(row.reduce(0, +))
    }
  }
}
