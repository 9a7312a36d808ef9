import MoonlabTensor

/// airbench's `LookaheadState` (Zhang et al. 2019, "Lookahead Optimizer", as airbench94
/// uses it): a slow copy of the model's float state — every parameter and every buffer
/// except BatchNorm's `num_batches_tracked` — taken when made. `update(decay:)` moves each
/// slow tensor toward the model, ema ← ema + (1 − decay)(net − ema) (PyTorch's `lerp_`),
/// then puts it back into the model: net ← ema, in the model's own storage (docs/optim.md,
/// "Lookahead").
///
///     let la = try Lookahead(model)
///     … every few steps: try la.update(decay: 0.95^5) … at the end: try la.update(decay: 1)
public final class Lookahead {
  /// The model's tensors followed, in state-dict order.
  public let tensors: [Tensor]
  /// How many times `update` ran.
  public private(set) var updates = 0
  private let slow: [Tensor]

  public convenience init(_ model: Module) throws {
    try self.init(
      model.parameters()
        + model.namedBuffers().filter { !$0.name.hasSuffix("num_batches_tracked") }.map(\.tensor))
  }

  public init(_ tensors: [Tensor]) throws {
    guard !tensors.isEmpty else {
      throw TensorError("Lookahead: the model has no parameters or buffers")
    }
    self.tensors = tensors
    slow = TensorCopies.snapshot(tensors)
  }

  public func update(decay: Double) throws {
    guard decay >= 0, decay <= 1 else {
      throw TensorError("Lookahead.update: decay \(decay) must be in [0, 1]")
    }
    TensorCopies.lerp(slow, toward: tensors, weight: 1 - decay)
    TensorCopies.overwrite(tensors, with: slow)
    updates += 1
  }
}
