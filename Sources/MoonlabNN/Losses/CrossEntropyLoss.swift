import Foundation
import MoonlabTensor

/// Cross-entropy of logits [N, C] against class indices [N] (a Float tensor of 0-based
/// classes in Swift; Lua passes 1-based labels and the binding subtracts 1), PyTorch's
/// `CrossEntropyLoss(weight=, label_smoothing=ε, reduction=)`. log-softmax and the
/// negative log-likelihood are fused into one node; with logp = log softmax(zᵢ) and
/// class weights w (all 1 by default):
///
///     lᵢ = (1 − ε)·w[yᵢ]·(−logp[yᵢ]) + (ε/C)·Σ_c w[c]·(−logp[c])
///     dlᵢ/dzᵢ = ((1 − ε)·w[yᵢ] + (ε/C)·Σw)·softmax(zᵢ) − (1 − ε)·w[yᵢ]·onehot(yᵢ) − (ε/C)·w
///
/// `mean` divides Σlᵢ by Σᵢ w[yᵢ] (PyTorch's weighted mean; N without weights).
public final class CrossEntropyLoss: Loss, ClassLabelLoss {
  public let weight: Tensor?
  public let labelSmoothing: Float
  public let reduction: Reduction

  /// Unweighted, no smoothing, mean: the plain cross-entropy.
  public override init() {
    weight = nil
    labelSmoothing = 0
    reduction = .mean
  }

  public init(weight: Tensor?, labelSmoothing: Float = 0, reduction: Reduction = .mean) throws {
    guard labelSmoothing >= 0, labelSmoothing <= 1 else {
      throw TensorError("CrossEntropyLoss: label_smoothing \(labelSmoothing) must be in [0, 1]")
    }
    try checkClassWeights(weight, "CrossEntropyLoss")
    try checkReduction(reduction, "CrossEntropyLoss")
    self.weight = weight?.detach()
    self.labelSmoothing = labelSmoothing
    self.reduction = reduction
  }

  public override func forward(_ input: Tensor, _ target: Tensor) throws -> Tensor {
    let k = try ClassLabels(input, target, weight: weight, op: "CrossEntropyLoss")
    let (n, c, labels, w) = (k.n, k.c, k.labels, k.weights)
    let eps = labelSmoothing
    let smooth = eps / Float(c)
    let weightSum = w.reduce(0, +)
    // Softmax probabilities are kept for backward; the loss sums in Double.
    let probs = Tensor(zeros: input.shape)
    var perSample = [Double](repeating: 0, count: n)
    for i in 0..<n {
      let z = input.data + i * c
      let p = probs.data + i * c
      var m = z[0]
      for j in 1..<c { m = max(m, z[j]) }
      var s: Float = 0
      for j in 0..<c {
        p[j] = Foundation.exp(z[j] - m)
        s += p[j]
      }
      let inv = 1 / s
      for j in 0..<c { p[j] *= inv }
      let logSum = Foundation.log(s) + m
      var l = Double(1 - eps) * Double(w[labels[i]]) * Double(logSum - z[labels[i]])
      if eps > 0 {
        var smoothed = 0.0
        for j in 0..<c { smoothed += Double(w[j]) * Double(logSum - z[j]) }
        l += Double(smooth) * smoothed
      }
      perSample[i] = l
    }
    let divisor = reduction == .mean ? k.weightedCount : 1
    let loss: Tensor
    if reduction == .none {
      loss = Tensor(zeros: [n])
      for i in 0..<n { loss.data[i] = Float(perSample[i]) }
    } else {
      loss = Tensor(scalar: Float(perSample.reduce(0, +) / divisor))
    }
    return Autograd.record("CrossEntropyLoss", output: loss, inputs: [input]) {
      [probs, labels, w, reduction] g in
      let gx = Tensor(zeros: probs.shape)
      for i in 0..<n {
        let scale = reduction == .none ? g.data[i] : g.data[0] / Float(divisor)
        let hard = (1 - eps) * w[labels[i]]
        let a = (hard + smooth * weightSum) * scale
        let p = probs.data + i * c
        let d = gx.data + i * c
        for j in 0..<c { d[j] = p[j] * a - smooth * w[j] * scale }
        d[labels[i]] -= hard * scale
      }
      return [gx]
    }
  }
}
