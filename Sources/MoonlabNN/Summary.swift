import MoonlabTensor

/// `nn.summary(m, {input shape})` and `tostring(m)`: how a network looks to its user.
extension Module {
  /// "Conv2d(3 -> 6, kernel 5)".
  public var summaryLine: String {
    extraDescription.isEmpty ? typeName : "\(typeName)(\(extraDescription))"
  }

  /// Torch7-style tree: containers list their children, one per line, indented.
  public var treeDescription: String {
    guard !children.isEmpty else { return summaryLine }
    let body = children.map { child in
      "  (\(child.name)): "
        + child.module.treeDescription.replacingOccurrences(of: "\n", with: "\n  ")
    }
    return ([summaryLine + " {"] + body + ["}"]).joined(separator: "\n")
  }

  /// A table of every layer's output shape and parameter count for an input of shape
  /// `inputShape`, given as torchsummary takes it, without the batch dimension ([3, 32, 32]),
  /// or with it ([1, 3, 32, 32]): a batch of 1 is added when the shape is one dimension
  /// short of what the first layer takes. The network runs once on zeros in eval mode
  /// without recording (train/eval flags and running statistics are left as they were).
  /// A Sequential's children get one row each, nested ones with dotted names.
  public func summary(inputShape given: [Int]) throws -> String {
    try Shape.validate(given, op: "summary")
    let inputShape = firstLayerRank.map { given.count == $0 - 1 } ?? false ? [1] + given : given
    let flags = modules().map(\.training)
    defer { for (m, on) in zip(modules(), flags) { m.train(on) } }
    eval()
    var rows: [(String, String, String, Int)] = []
    func walk(_ m: Module, _ name: String, _ x: Tensor) throws -> Tensor {
      if let seq = m as? Sequential {
        var h = x
        for child in seq.children {
          h = try walk(child.module, name.isEmpty ? child.name : "\(name).\(child.name)", h)
        }
        return h
      }
      let y = try m.forward(x)
      rows.append((name, m.summaryLine, describeShape(y.shape), m.numParameters))
      return y
    }
    let out = try Autograd.noGrad { try walk(self, "", Tensor(zeros: inputShape)) }
    if rows.isEmpty { rows.append(("", summaryLine, describeShape(out.shape), numParameters)) }
    let header = ("Layer", "Type", "Output shape", "Params")
    let w0 = max(header.0.count, rows.map(\.0.count).max() ?? 0)
    let w1 = max(header.1.count, rows.map(\.1.count).max() ?? 0)
    let w2 = max(header.2.count, rows.map(\.2.count).max() ?? 0)
    func line(_ a: String, _ b: String, _ c: String, _ d: String) -> String {
      [pad(a, w0), pad(b, w1), pad(c, w2), d].joined(separator: "  ")
    }
    var lines = [line(header.0, header.1, header.2, header.3)]
    lines.append(String(repeating: "-", count: lines[0].count))
    for r in rows { lines.append(line(r.0, r.1, r.2, grouped(r.3))) }
    lines.append("Input \(describeShape(inputShape)), total parameters: \(grouped(numParameters))")
    return lines.joined(separator: "\n")
  }
}

extension Module {
  /// The input rank the first layer that has one takes (Conv2d, pooling, BatchNorm2d: 4;
  /// Linear, BatchNorm1d: 2; RNN: 3), nil when something else comes first.
  var firstLayerRank: Int? {
    switch self {
    case is Conv2d, is Pool2d, is BatchNorm2d: return 4
    case is Linear, is BatchNorm1d: return 2
    case is RNN, is RecurrentStack: return 3
    case is Sequential, is Residual: return children.first?.module.firstLayerRank
    default: return nil
    }
  }
}

private func pad(_ s: String, _ width: Int) -> String {
  s + String(repeating: " ", count: max(0, width - s.count))
}

/// 62006 → "62,006".
func grouped(_ n: Int) -> String {
  let digits = String(n.magnitude)
  var out = ""
  for (i, ch) in digits.enumerated() {
    if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
    out.append(ch)
  }
  return (n < 0 ? "-" : "") + out
}
