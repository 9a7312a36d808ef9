import Dispatch

/// Splits work over the current run's thread count (`RunContext.threads`). Results must
/// not depend on scheduling, so work is split into fixed chunks, each summed in a fixed
/// order.
public enum Parallel {
  /// Runs `body` on `threads` contiguous chunks of 0..<count. OpenBLAS runs on one thread
  /// (`RunContext.singleThreadedOpenBLAS`), so a GEMM in a chunk stays on its thread.
  /// Chunk boundaries depend only on count and `threads`, so results are the same from
  /// run to run. The workers run with the caller's run context.
  public static func forChunks(_ count: Int, minChunk: Int = 1, _ body: (Range<Int>) -> Void) {
    let context = RunContext.current
    let threads = context.threads
    let chunks = min(threads, max(1, count / max(1, minChunk)))
    if chunks <= 1 {
      if count > 0 { body(0..<count) }
      return
    }
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
      let lo = count * c / chunks
      let hi = count * (c + 1) / chunks
      if lo < hi { RunContext.with(context) { body(lo..<hi) } }
    }
  }
}
