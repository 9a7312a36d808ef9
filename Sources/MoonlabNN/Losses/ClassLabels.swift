import MoonlabTensor

/// A loss whose target is class indices (0-based in Swift; the Lua binding converts
/// Lua's 1-based labels for every loss marked so).
public protocol ClassLabelLoss: Loss {}

/// The reading shared by CrossEntropyLoss and NLLLoss: scores [N, C], labels [N] holding
/// class indices in 0..<C, and optional class weights [C] (PyTorch's `weight`).
struct ClassLabels {
  let n: Int, c: Int
  let labels: [Int]
  /// Each class's weight (all 1 without `weight`).
  let weights: [Float]

  init(_ input: Tensor, _ target: Tensor, weight: Tensor?, op: String) throws {
    guard input.rank == 2, input.shape[0] > 0, input.shape[1] > 0 else {
      throw TensorError("\(op): expected scores [N,C], got \(describeShape(input.shape))")
    }
    (n, c) = (input.shape[0], input.shape[1])
    guard target.count == n, target.rank == 1 else {
      throw TensorError(
        "\(op): expected \(n) class labels for input \(describeShape(input.shape)), got target \(describeShape(target.shape))"
      )
    }
    var labels = [Int](repeating: 0, count: n)
    for i in 0..<n {
      let v = target.data[i]
      guard let k = Int(exactly: v), k >= 0, k < c else {
        throw TensorError("\(op): label \(v) of sample \(i + 1) is not a class index in 0..<\(c)")
      }
      labels[i] = k
    }
    self.labels = labels
    if let weight {
      guard weight.shape == [c] else {
        throw TensorError(
          "\(op): weight has shape \(describeShape(weight.shape)), expected one weight per class [\(c)]"
        )
      }
      weights = weight.toArray()
    } else {
      weights = [Float](repeating: 1, count: c)
    }
  }

  /// What a mean divides by: the summed weights of the samples' classes (PyTorch's
  /// weighted mean; N without weights).
  var weightedCount: Double { labels.reduce(0.0) { $0 + Double(weights[$1]) } }
}

/// Class weights must be one finite, non-negative number per class (checked when the
/// loss is made; their count is checked against C at each call).
func checkClassWeights(_ weight: Tensor?, _ op: String) throws {
  guard let weight else { return }
  guard weight.rank == 1, weight.count > 0 else {
    throw TensorError(
      "\(op): weight must be a 1-D tensor of class weights, got \(describeShape(weight.shape))")
  }
  for i in 0..<weight.count where !(weight.data[i] >= 0 && weight.data[i].isFinite) {
    throw TensorError(
      "\(op): weight \(i + 1) is \(weight.data[i]); class weights must be finite and ≥ 0")
  }
}
