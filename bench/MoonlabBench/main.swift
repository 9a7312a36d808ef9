import Foundation
import MoonlabTensor

/// `swift run -c release MoonlabBench [name…]`: runs the named benchmarks (all by
/// default) and prints one result line each. bench/run.sh runs this next to the PyTorch
/// counterparts in bench/torch/ and prints the ratios.
let benchmarks: [(name: String, run: () throws -> Void)] = [
  ("lua_call", LuaCallBench.run),
  ("tensor", TensorBench.run),
  ("pipeline", PipelineBench.run),
  ("lenet", LeNetBench.run),
  ("lenet_layers", LeNetLayersBench.run),
  ("lenet_augment", LeNetAugmentBench.run),
]

if let t = ProcessInfo.processInfo.environment["MOONLAB_THREADS"].flatMap(Int.init) { Parallel.setThreads(t) }
let wanted = Set(CommandLine.arguments.dropFirst())
for b in benchmarks where wanted.isEmpty || wanted.contains(b.name) {
  do {
    try b.run()
  } catch {
    print("\(b.name): failed: \(error)")
  }
}
