/// Where every random stream of a run stands: its seed, the default stream and each
/// named one ("init", "dropout", …). A resumed run puts them back exactly, so the draws
/// after a checkpoint are the ones an uninterrupted run makes (docs/lab.md, "Resuming a
/// run"). The loaders' shuffling and augmentation streams are derived from the loader's
/// seed and epoch, so the loader's epoch counter is their state.
public struct RandomState: Equatable {
  public var seed: UInt64
  public var global: [UInt64]
  public var streams: [String: [UInt64]]

  public init(seed: UInt64, global: [UInt64], streams: [String: [UInt64]]) {
    self.seed = seed
    self.global = global
    self.streams = streams
  }
}

extension RunContext {
  /// The position of every stream this run has drawn from.
  public var randomState: RandomState {
    RandomState(seed: seed, global: random.state, streams: streams.mapValues(\.state))
  }

  /// Puts every stream back where `state` says, in place (layers and initializers that
  /// hold a stream keep drawing from it). A stream made since, which the state doesn't
  /// know, starts afresh from the seed. Nothing changes unless every position is valid.
  public func restoreRandom(_ state: RandomState) throws {
    let probe = Generator(seed: 0)
    try probe.restore(state.global)
    for words in state.streams.values { try probe.restore(words) }
    seed = state.seed
    try random.restore(state.global)
    for (name, words) in state.streams { try stream(name).restore(words) }
    for (name, g) in streams where state.streams[name] == nil {
      try g.restore(Generator(seed: seed, stream: name).state)
    }
  }
}
