/// How many chunks `forBatchChunks` splits `count` items of `workPerItem` multiply-adds
/// into: one per thread, but none with less than the run's `minimumChunkWork` (about
/// 20–40 µs of single-core GEMM; tests lower it to split tiny batches). Waking the second
/// thread costs tens of µs, more than a small batch's GEMM (an MLP at batch 2–16 spent
/// ~20 % of its time in the kernel's scheduler).
public func batchChunks(_ count: Int, workPerItem: Int) -> Int {
  let context = RunContext.current
  return max(1, min(context.threads, count, count * workPerItem / context.minimumChunkWork))
}

/// Splits a batch of `count` items into `batchChunks(count, workPerItem:)` fixed chunks
/// and runs `body` on each with its chunk number, which indexes that chunk's scratch and
/// partial sums. The split depends only on the sizes and the thread count, so sums taken
/// per chunk and then added in chunk order are the same on every run.
public func forBatchChunks(
  _ count: Int, workPerItem: Int, _ body: (_ chunk: Int, _ items: Range<Int>) -> Void
) {
  let chunks = batchChunks(count, workPerItem: workPerItem)
  Parallel.forChunks(chunks) { range in
    for c in range { body(c, count * c / chunks..<count * (c + 1) / chunks) }
  }
}

/// Sums the chunks' partial gradients into `outputs` (overwriting them), in chunk order,
/// so the sum is the same on every run. Chunk c's partials start at `first + c·stride`,
/// laid out as the outputs' elements one after another (dW then db).
public func addChunkPartials(
  _ first: UnsafePointer<Float>, chunks: Int, stride: Int, into outputs: [Tensor]
) {
  var offset = 0
  for out in outputs {
    let d = out.data
    d.update(from: first + offset, count: out.count)
    for chunk in 1..<max(1, chunks) {
      let p = first + chunk * stride + offset
      for i in 0..<out.count { d[i] += p[i] }
    }
    offset += out.count
  }
}
