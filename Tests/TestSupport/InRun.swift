import MoonlabTensor

/// Runs `body` in a fresh run context (its own seed, threads and grad mode), as a host
/// does while its script runs. `splitTinyBatches` splits even the tests' tiny batches
/// into one chunk per thread, so the multi-thread paths run.
public func inRun<T>(
  threads: Int = 1, seed: UInt64 = 0, splitTinyBatches: Bool = false, _ body: () throws -> T
) rethrows -> T {
  let context = RunContext(seed: seed, threads: threads)
  if splitTinyBatches { context.minimumChunkWork = 1 }
  return try context.activate(body)
}
