import MoonlabTensor

/// A named random stream derived from the run seed (`Generator.derived(name)`), shared by
/// every module that draws from it (all initializers, all dropout layers), and started
/// afresh whenever the global generator is reseeded — so `tensor.seed(1)` followed by
/// building a model gives the same weights every time, whatever else draws numbers.
public final class DerivedStream {
  public let name: String
  private var source: Generator?
  private var current: Generator?

  public init(_ name: String) { self.name = name }

  public var generator: Generator {
    if let current, source === Generator.global { return current }
    // Holding `source` keeps its address from being reused by a later generator.
    source = Generator.global
    let fresh = Generator.derived(name)
    current = fresh
    return fresh
  }
}
