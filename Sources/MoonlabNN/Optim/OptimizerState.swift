import MoonlabTensor

/// Everything an optimizer carries from one step to the next: the learning rates, the
/// schedules' base lrs, each parameter's step count and state buffers (momentum, Adam's
/// moments). lab.fit saves it with each checkpoint so a resumed run steps exactly as an
/// uninterrupted one (docs/lab.md, "Resuming a run").
public struct OptimizerState {
  /// `groupLRs`: one per parameter group.
  public var lrs: [Double]
  public var initialLRs: [Double]?
  /// Per parameter, in the order of `parameters` (groups one after another).
  public var steps: [Int]
  /// Per parameter: its buffers, each the parameter's size; none before its first step.
  public var buffers: [[Tensor]]

  public init(lrs: [Double], initialLRs: [Double]?, steps: [Int], buffers: [[Tensor]]) {
    self.lrs = lrs
    self.initialLRs = initialLRs
    self.steps = steps
    self.buffers = buffers
  }
}

extension Optimizer {
  /// The optimizers that own per-parameter state: the groups of a ParamGroups, else self.
  private var leaves: [Optimizer] {
    (self as? ParamGroups)?.groups.flatMap(\.leaves) ?? [self]
  }

  /// A copy of the state (the buffers are copied, so later steps don't change it).
  public func exportState() -> OptimizerState {
    var steps: [Int] = []
    var buffers: [[Tensor]] = []
    for leaf in leaves {
      steps += leaf.steps
      for (p, storages) in zip(leaf.parameters, leaf.storages) {
        buffers.append(
          storages.map { s in
            let copy = Tensor(zeros: p.shape)
            copy.data.update(from: s.pointer, count: p.count)
            return copy
          })
      }
    }
    return OptimizerState(lrs: groupLRs, initialLRs: initialLRs, steps: steps, buffers: buffers)
  }

  /// Takes `state` over (copies of its buffers). It must fit this optimizer — as many
  /// groups and parameters, buffers of each parameter's size — or nothing changes.
  public func importState(_ state: OptimizerState) throws {
    let op = "\(typeName): checkpoint state"
    guard state.lrs.count == groupLRs.count else {
      throw TensorError(
        "\(op) has \(state.lrs.count) parameter group(s), this optimizer \(groupLRs.count)")
    }
    for lr in state.lrs { try Optimizer.check(lr: lr, op: op) }
    guard state.initialLRs == nil || state.initialLRs?.count == groupLRs.count else {
      throw TensorError(
        "\(op) has \(state.initialLRs?.count ?? 0) initial lr(s), this optimizer \(groupLRs.count) group(s)"
      )
    }
    guard state.steps.count == parameters.count, state.buffers.count == parameters.count else {
      throw TensorError(
        "\(op) is for \(state.steps.count) parameter(s), this optimizer has \(parameters.count)")
    }
    var i = 0
    for leaf in leaves {
      for p in leaf.parameters {
        let b = state.buffers[i]
        guard state.steps[i] >= 0, b.isEmpty || b.count == leaf.buffersPerParameter else {
          throw TensorError(
            "\(op): parameter \(i + 1) has \(b.count) buffer(s) after \(state.steps[i]) step(s), \(leaf.typeName) keeps \(leaf.buffersPerParameter)"
          )
        }
        if let bad = b.first(where: { $0.count != p.count }) {
          throw TensorError(
            "\(op): a buffer of parameter \(i + 1) has shape \(describeShape(bad.shape)), the parameter \(describeShape(p.shape))"
          )
        }
        i += 1
      }
    }
    i = 0
    for leaf in leaves {
      for (k, p) in leaf.parameters.enumerated() {
        leaf.steps[k] = state.steps[i]
        leaf.storages[k] = state.buffers[i].map { t in
          let s = TensorStorage(count: p.count, zeroed: false)
          s.pointer.update(from: t.data, count: p.count)
          return s
        }
        leaf.state[k] = leaf.storages[k].map(\.pointer)
        i += 1
      }
    }
    initialLRs = state.initialLRs
    groupLRs = state.lrs
  }
}
