import MoonlabTensor

/// An exponential moving average of parameters (Polyak averaging), PyTorch's
/// `torch.optim.swa_utils.AveragedModel` with `get_ema_multi_avg_fn(decay)`: the first
/// `update()` copies the parameters, each later one does
///
///     avg = decay · avg + (1 − decay) · p   (PyTorch's lerp_, TensorCopies.lerp)
///
/// `apply()` swaps the averages into the parameters (to evaluate or save them) and
/// `restore()` puts the training values back. Buffers (BatchNorm statistics) are not
/// averaged, as AveragedModel's default.
///
///     let ema = try EMA(model.parameters(), decay: 0.999)
///     for batch in … { …; try opt.step(); try ema.update() }
///     try ema.apply(); evaluate(model); try ema.restore()
public final class EMA {
  public let parameters: [Tensor]
  public let decay: Double
  /// How many times `update()` ran (AveragedModel's `n_averaged`).
  public private(set) var updates = 0
  private let averages: [Tensor]
  /// The training values while the averages are applied.
  private var saved: [Tensor]?

  public init(_ parameters: [Tensor], decay: Double) throws {
    guard !parameters.isEmpty else { throw TensorError("EMA: the parameter list is empty") }
    guard decay >= 0, decay < 1 else { throw TensorError("EMA: decay \(decay) must be in [0, 1)") }
    self.parameters = parameters
    self.decay = decay
    averages = parameters.map { Tensor(zeros: $0.shape) }
  }

  public var isApplied: Bool { saved != nil }

  public func update() throws {
    guard saved == nil else {
      throw TensorError(
        "EMA.update: the averages are applied; restore() the training weights first")
    }
    // AveragedModel's EMA is `_foreach_lerp_(avg, p, 1 − decay)`; the first copies.
    TensorCopies.lerp(averages, toward: parameters, weight: updates == 0 ? 1 : 1 - decay)
    updates += 1
  }

  /// Copies the averages into the parameters, keeping the training values for restore().
  public func apply() throws {
    guard updates > 0 else { throw TensorError("EMA.apply: no update() yet, nothing averaged") }
    guard saved == nil else { throw TensorError("EMA.apply: the averages are already applied") }
    saved = TensorCopies.snapshot(parameters)
    TensorCopies.overwrite(parameters, with: averages)
  }

  public func restore() throws {
    guard let saved else { throw TensorError("EMA.restore: the averages are not applied") }
    TensorCopies.overwrite(parameters, with: saved)
    self.saved = nil
  }
}
