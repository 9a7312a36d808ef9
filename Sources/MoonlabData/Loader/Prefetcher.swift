import Foundation

/// Builds an epoch's batches on one worker thread, at most `depth` ahead of the consumer
/// (a bounded queue). The worker only touches the immutable `BatchPlan`, never Lua.
/// Batches are made in order, so the result equals building them on the caller's thread.
final class Prefetcher {
  private let condition = NSCondition()
  private var ready: [Int: Result<Batch, Error>] = [:]
  private var consumed = 0
  private var stopped = false
  /// The worker has returned (all batches made, stopped, or failed).
  private var finished = false

  init(plan: BatchPlan, depth: Int) {
    let thread = Thread { [self] in work(plan, depth) }
    thread.name = "moonlab.data.prefetch"
    thread.start()
  }

  private func work(_ plan: BatchPlan, _ depth: Int) {
    defer {
      condition.lock()
      finished = true
      condition.broadcast()
      condition.unlock()
    }
    for b in 0..<plan.batches {
      condition.lock()
      while !stopped && b - consumed >= depth { condition.wait() }
      let stop = stopped
      condition.unlock()
      if stop { return }
      let result = Result { try plan.make(b) }
      condition.lock()
      ready[b] = result
      condition.broadcast()
      condition.unlock()
      if case .failure = result { return }
    }
  }

  /// Waits for batch b (batches are taken in order).
  func take(_ b: Int) throws -> Batch {
    condition.lock()
    defer { condition.unlock() }
    while ready[b] == nil && !finished { condition.wait() }
    guard let result = ready.removeValue(forKey: b) else {
      throw DataError("Loader: batch \(b + 1) is not available (an earlier batch failed)")
    }
    consumed = b + 1
    condition.broadcast()
    return try result.get()
  }

  /// Tells the worker to finish after the batch it is building.
  func stop() {
    condition.lock()
    stopped = true
    condition.broadcast()
    condition.unlock()
  }
}
