import Foundation
import MoonlabTensor

/// Small 2-D classification sets for demos (`data.synth{n=, seed=, kind=}`), in the spirit
/// of scikit-learn's make_moons/make_circles/make_blobs and CS231n's spirals.
public enum Synthetic {
  public static let kinds = ["moons", "circles", "spirals", "blobs"]

  /// Share of class 0 in the two-class sets. A model that can't bend its boundary (a
  /// sigmoid MLP that stalls) predicts the majority class and sits at exactly this
  /// accuracy, the 0.545 plateau of the ReLU-vs-sigmoid homework.
  public static let majorityShare = 0.545

  public struct Options {
    public var n = 1000
    public var seed: UInt64 = 0
    public var kind = "moons"
    /// Standard deviation of the Gaussian noise; nil takes the kind's default.
    public var noise: Double?
    /// Classes for 'spirals' and 'blobs' (the others have two).
    public var classes = 3
    public init() {}
  }

  public static func make(_ o: Options) throws -> Dataset {
    guard o.n > 0, o.n <= 100_000_000 else {
      throw DataError("synth: n must be in 1…100,000,000, got \(o.n)")
    }
    guard kinds.contains(o.kind) else {
      throw DataError("synth: unknown kind '\(o.kind)' (expected \(kinds.joined(separator: ", ")))")
    }
    let twoClass = o.kind == "moons" || o.kind == "circles"
    guard twoClass || (o.classes >= 2 && o.classes <= 100) else {
      throw DataError("synth: classes must be in 2…100, got \(o.classes)")
    }
    let k = twoClass ? 2 : o.classes
    let g = Generator(seed: o.seed, stream: "synth." + o.kind)
    // Class sizes: two-class sets are 54.5 : 45.5, the others balanced.
    var sizes = [Int](repeating: o.n / k, count: k)
    if twoClass {
      sizes[0] = Int((Double(o.n) * majorityShare).rounded())
      sizes[1] = o.n - sizes[0]
    } else {
      for c in 0..<(o.n % k) { sizes[c] += 1 }
    }
    var labels: [Int] = []
    for c in 0..<k { labels += [Int](repeating: c, count: sizes[c]) }
    labels = g.permutation(o.n).map { labels[$0] }
    var x = [Float](repeating: 0, count: 2 * o.n)
    var seen = [Int](repeating: 0, count: k)
    for (i, c) in labels.enumerated() {
      // t runs evenly over each class, so the shapes are filled without gaps.
      let t = (Double(seen[c]) + 0.5) / Double(sizes[c])
      seen[c] += 1
      let (px, py) = point(kind: o.kind, class: c, classes: k, t: t)
      let noise = o.noise ?? defaultNoise(o.kind)
      x[2 * i] = Float(px + noise * Double(g.normal()))
      x[2 * i + 1] = Float(py + noise * Double(g.normal()))
    }
    return try Dataset(
      name: "synth." + o.kind, sampleShape: [2], storage: .floats(x),
      targets: labels.map(Float.init),
      classes: (1...k).map { "class \($0)" })
  }

  static func defaultNoise(_ kind: String) -> Double {
    switch kind {
    case "moons": return 0.1
    case "circles": return 0.05
    case "spirals": return 0.1
    default: return 0.5
    }
  }

  /// The noiseless point at position t ∈ (0, 1) along class c's shape.
  static func point(kind: String, class c: Int, classes k: Int, t: Double) -> (Double, Double) {
    switch kind {
    case "moons":
      // Two interleaved half circles: the upper one centred at (0, 0), the lower at (1, 0.5).
      let a = Double.pi * t
      return c == 0 ? (cos(a), sin(a)) : (1 - cos(a), 0.5 - sin(a))
    case "circles":
      // Concentric circles, radius 1 (class 1) around radius 0.5 (class 2).
      let a = 2 * Double.pi * t
      let r = c == 0 ? 1.0 : 0.5
      return (r * cos(a), r * sin(a))
    case "spirals":
      // CS231n: radius grows with t, each arm turned by 2π/k, four radians of winding.
      let r = t
      let a = 2 * Double.pi * Double(c) / Double(k) + 4 * t
      return (r * sin(a), r * cos(a))
    default:
      // Blobs: centres evenly on a circle of radius 3; noise gives the spread.
      let a = 2 * Double.pi * Double(c) / Double(k)
      return (3 * cos(a), 3 * sin(a))
    }
  }
}
