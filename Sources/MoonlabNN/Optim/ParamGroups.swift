import MoonlabTensor

/// Parameter groups (PyTorch's `param_groups`): one optimizer of the same kind per group,
/// each made with the defaults overridden by the group's own options, stepped together.
///
///     optim.SGD({{params = body, lr = 0.1}, {params = head, weight_decay = 0}}, {lr = 0.01, momentum = 0.9})
///
/// `lr` reads the first group's and sets every group's; schedules scale each group's lr
/// from its own base through `groupLRs`.
public final class ParamGroups: Optimizer {
  public let groups: [Optimizer]

  public init(_ groups: [Optimizer]) throws {
    guard let first = groups.first else {
      throw TensorError("parameter groups: the list of groups is empty")
    }
    self.groups = groups
    // The base class checks the whole list: a parameter in two groups is an error.
    try super.init(
      groups.flatMap(\.parameters), lr: first.lr, buffersPerParameter: 0, op: first.typeName)
  }

  public override var typeName: String { groups[0].typeName }

  public override var lr: Double {
    get { groups[0].lr }
    set { for g in groups { g.lr = newValue } }
  }

  public override var groupLRs: [Double] {
    get { groups.map(\.lr) }
    set { for (g, lr) in zip(groups, newValue) { g.lr = lr } }
  }

  public override func step() throws {
    for g in groups { try g.step() }
  }
}
