import Foundation
import MoonlabTensor

/// Cross-entropy of logits [N, C] against class indices [N] (a Float tensor of 0-based
/// classes in Swift; Lua passes 1-based labels and the binding subtracts 1), mean over
/// the batch. log-softmax and the negative log-likelihood are fused into one node:
/// loss = mean_i(logsumexp(zᵢ) − zᵢ[yᵢ]),  d/dzᵢ = (softmax(zᵢ) − onehot(yᵢ)) / N.
public final class CrossEntropyLoss: Loss {
  public override func forward(_ input: Tensor, _ target: Tensor) throws -> Tensor {
    guard input.rank == 2, input.shape[0] > 0, input.shape[1] > 0 else {
      throw TensorError(
        "CrossEntropyLoss: expected logits [N,C], got \(describeShape(input.shape))")
    }
    let (n, c) = (input.shape[0], input.shape[1])
    guard target.count == n, target.rank == 1 else {
      throw TensorError(
        "CrossEntropyLoss: expected \(n) class labels for logits \(describeShape(input.shape)), got target \(describeShape(target.shape))"
      )
    }
    var labels = [Int](repeating: 0, count: n)
    for i in 0..<n {
      let v = target.data[i]
      guard let k = Int(exactly: v), k >= 0, k < c else {
        throw TensorError(
          "CrossEntropyLoss: label \(v) of sample \(i + 1) is not a class index in 0..<\(c)")
      }
      labels[i] = k
    }
    // Softmax probabilities are kept for backward; the loss sums in Double.
    let probs = Tensor(zeros: input.shape)
    var total = 0.0
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
      total += Double(Foundation.log(s) + m - z[labels[i]])
    }
    let loss = Tensor(scalar: Float(total / Double(n)))
    return Autograd.record("CrossEntropyLoss", output: loss, inputs: [input]) { [probs, labels] g in
      let scale = g.data[0] / Float(n)
      let gx = Tensor(zeros: probs.shape)
      for i in 0..<n {
        let p = probs.data + i * c
        let d = gx.data + i * c
        for j in 0..<c { d[j] = p[j] * scale }
        d[labels[i]] -= scale
      }
      return [gx]
    }
  }
}
