import MoonlabTensor

/// Negative log-likelihood of log-probabilities [N, C] (a LogSoftmax's output) against
/// class indices [N], PyTorch's `NLLLoss(weight=, reduction=)`:
/// lᵢ = −w[yᵢ]·x[i, yᵢ];  dlᵢ/dx[i, yᵢ] = −w[yᵢ], zero elsewhere. `mean` divides by
/// Σᵢ w[yᵢ], as CrossEntropyLoss does.
public final class NLLLoss: Loss, ClassLabelLoss {
  public let weight: Tensor?
  public let reduction: Reduction

  public init(weight: Tensor? = nil, reduction: Reduction = .mean) throws {
    try checkClassWeights(weight, "NLLLoss")
    try checkReduction(reduction, "NLLLoss")
    self.weight = weight?.detach()
    self.reduction = reduction
  }

  public override func forward(_ input: Tensor, _ target: Tensor) throws -> Tensor {
    let k = try ClassLabels(input, target, weight: weight, op: "NLLLoss")
    let (n, c, labels, w) = (k.n, k.c, k.labels, k.weights)
    let divisor = reduction == .mean ? k.weightedCount : 1
    let loss = Tensor(zeros: reduction == .none ? [n] : [])
    var sum = 0.0
    for i in 0..<n {
      let l = -Double(w[labels[i]]) * Double(input.data[i * c + labels[i]])
      if reduction == .none { loss.data[i] = Float(l) } else { sum += l }
    }
    if reduction != .none { loss.data[0] = Float(sum / divisor) }
    return Autograd.record("NLLLoss", output: loss, inputs: [input]) { [labels, w, reduction] g in
      let gx = Tensor(zeros: [n, c])
      for i in 0..<n {
        let scale = reduction == .none ? g.data[i] : g.data[0] / Float(divisor)
        gx.data[i * c + labels[i]] = -w[labels[i]] * scale
      }
      return [gx]
    }
  }
}
