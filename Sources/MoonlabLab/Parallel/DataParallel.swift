import Foundation
import MoonlabLua
import MoonlabNN
import MoonlabTensor

/// Data-parallel lab.fit over the ranks of an MPI world (docs/scale-out.md, "Training
/// across processes"). Every rank loads the same global batch (same script, same seed),
/// keeps its own contiguous share of the rows, and backpropagates its loss weighted by
/// its share of the batch; the gradients are then summed over ranks in rank order, so
/// every rank takes the same optimizer step and the weights stay identical everywhere.
final class DataParallel {
  let world: MPIWorld
  /// BatchNorm across ranks (lab.fit's `bn_stats`): each rank normalises with its own
  /// rows' statistics and after each epoch the running statistics become rank 0's
  /// (PyTorch DDP's `broadcast_buffers`) or the ranks' mean; or, with `sync`, every rank
  /// normalises with the whole global batch's statistics (PyTorch's SyncBatchNorm), which
  /// keeps the running statistics equal everywhere.
  enum BufferSync: String, CaseIterable {
    case rank0, mean, sync
  }

  /// The gradient sum's buffers, kept across steps: [P presence flags, gradients…] padded
  /// to a multiple of the world size, what each rank receives, and its summed block.
  private var flat: [Float] = [], received: [Float] = [], block: [Float] = []
  /// Time, bytes and count of gradient sums in this process (`lab.distributed()`).
  private(set) var sumSeconds = 0.0, sumBytes = 0, sums = 0

  /// The process's data-parallel state under MPI; nil outside MPI.
  nonisolated(unsafe) private(set) static var shared: DataParallel?
  static func joined() throws -> DataParallel? {
    if shared == nil, let world = try MPIWorld.joined() { shared = DataParallel(world) }
    return shared
  }
  private init(_ world: MPIWorld) { self.world = world }

  /// This rank's rows of a global batch of `total`: the r-th of `size` near-equal runs.
  func rows(of total: Int) -> Range<Int> {
    (world.rank * total / world.size)..<((world.rank + 1) * total / world.size)
  }

  /// Narrows the batch (x, y) in the two top stack slots to this rank's rows; returns its
  /// share of the batch's rows.
  func narrowBatch(_ lua: Lua, batch: Int, _ fn: String) throws -> Share {
    let x = try lua.tensor(-2, "\(fn) batch x (data-parallel training needs tensor batches)")
    let y = try lua.tensor(-1, "\(fn) batch y")
    let total = x.rank > 0 ? x.shape[0] : 0
    guard total >= world.size, y.rank > 0, y.shape[0] == total else {
      throw LuaError(
        "\(fn): batch \(batch) has \(total) rows (labels \(describeShape(y.shape))) for \(world.size) ranks: data-parallel training needs at least one row per rank (use drop_last = true or another batch size)"
      )
    }
    let r = rows(of: total)
    for (slot, t) in [(Int32(-2), x), (-1, y)] {
      lua.push(try t.narrow(dim: 0, start: r.lowerBound, length: r.count))
      lua.replace(slot - 1)
    }
    return Share(rows: r.count, total: total)
  }

  struct Share {
    let rows: Int, total: Int
    /// The factor of this rank's mean loss in the global batch's mean.
    var weight: Float { Float(rows) / Float(total) }
  }

  /// The global batch's mean loss from every rank's mean over its rows (in rank order, so
  /// the same bits on every rank); NaN or infinite when any rank's is. Also checks that
  /// every rank loaded a batch of the same size.
  func meanLoss(_ value: Float, _ share: Share, batch: Int, _ fn: String) throws -> Double {
    let parts = try world.allgather([Double(value) * Double(share.rows), Double(share.total)])
    let totals = stride(from: 1, to: parts.count, by: 2).map { Int(parts[$0]) }
    guard totals.allSatisfy({ $0 == share.total }) else {
      throw LuaError(
        "\(fn): the ranks loaded different batches (batch \(batch) has \(totals.map(String.init).joined(separator: ", ")) rows on ranks 0…\(world.size - 1)): data-parallel training needs the same data, loader and seed on every rank"
      )
    }
    return stride(from: 0, to: parts.count, by: 2).reduce(0) { $0 + parts[$1] }
      / Double(share.total)
  }

  /// Sums the parameters' gradients over the ranks: an alltoall hands rank r block r of
  /// every rank's gradients, rank r adds them in rank order, and an allgather returns the
  /// sums — the bytes of a ring allreduce, with an order that doesn't depend on Open MPI's
  /// choice of algorithm. A parameter no rank has a gradient for keeps none, as in one
  /// process; a rank without one for it adds zeros.
  func sumGradients(_ parameters: [Tensor]) throws {
    let start = DispatchTime.now().uptimeNanoseconds
    let p = parameters.count
    let n = p + parameters.reduce(0) { $0 + $1.count }
    let size = world.size
    let blockCount = (n + size - 1) / size
    if flat.count != blockCount * size {
      flat = [Float](repeating: 0, count: blockCount * size)
      received = flat
      block = [Float](repeating: 0, count: blockCount)
    }
    let grads = try parameters.map { try $0.grad?.contiguous() }
    flat.withUnsafeMutableBufferPointer { f in
      var at = p
      for (i, t) in parameters.enumerated() {
        if let g = grads[i] {
          f[i] = 1
          (f.baseAddress! + at).update(from: g.data, count: t.count)
        } else {
          f[i] = 0
          (f.baseAddress! + at).update(repeating: 0, count: t.count)
        }
        at += t.count
      }
    }
    let bytes = blockCount * MemoryLayout<Float>.stride
    try flat.withUnsafeBytes { send in
      try received.withUnsafeMutableBytes {
        try world.alltoall(send.baseAddress!, $0.baseAddress!, bytes: bytes)
      }
    }
    received.withUnsafeBufferPointer { r in
      block.withUnsafeMutableBufferPointer { b in
        b.baseAddress!.update(from: r.baseAddress!, count: blockCount)
        for k in 1..<size {
          let from = r.baseAddress! + k * blockCount
          for i in 0..<blockCount { b[i] += from[i] }
        }
      }
    }
    try block.withUnsafeBytes { send in
      try flat.withUnsafeMutableBytes {
        try world.allgather(send.baseAddress!, $0.baseAddress!, bytes: bytes)
      }
    }
    flat.withUnsafeBufferPointer { f in
      var at = p
      for (i, t) in parameters.enumerated() {
        defer { at += t.count }
        guard f[i] > 0 else {
          t.grad = nil
          continue
        }
        let g = t.grad.flatMap { $0.isContiguous ? $0 : nil } ?? Tensor(zeros: t.shape)
        g.data.update(from: f.baseAddress! + at, count: t.count)
        t.grad = g
      }
    }
    sums += 1
    sumBytes += 2 * (size - 1) * bytes
    sumSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
  }

  /// One class tally from every rank's (a rank with no class scores gives none).
  func merge(_ tally: ClassTally?) throws -> ClassTally? {
    let encoded = tally.map { t in [t.classes, t.k, t.topkHits, t.samples] + t.confusion } ?? []
    let all = try world.allgather(bytes: encoded.withUnsafeBytes { Array($0) })
    var merged: ClassTally?
    for bytes in all where !bytes.isEmpty {
      let values = bytes.withUnsafeBytes { Array($0.bindMemory(to: Int.self)) }
      let part = ClassTally(
        classes: values[0], k: values[1], topkHits: values[2], samples: values[3],
        confusion: Array(values[4...]))
      guard merged != nil else {
        merged = part
        continue
      }
      guard part.classes == merged?.classes else {
        throw LuaError(
          "lab.fit: the ranks' outputs have \(merged?.classes ?? 0) and \(part.classes) class scores"
        )
      }
      merged?.add(part)
    }
    return merged
  }

  /// Adds `values` over the ranks in rank order: the same sums, bit for bit, on every rank.
  func sumOverRanks(_ values: inout [Double]) throws {
    let all = try world.allgather(values)
    for i in values.indices {
      var sum = all[i]
      for r in 1..<world.size { sum += all[r * values.count + i] }
      values[i] = sum
    }
  }

  /// Makes the model's BatchNorm layers normalise with every rank's batch statistics
  /// (`bn_stats = 'sync'`); returns them, for `crossProcessSum = nil` when the fit ends.
  func synchronizeBatchNorm(_ model: Module) -> [BatchNorm] {
    let norms = model.modules().compactMap { $0 as? BatchNorm }
    for n in norms { n.crossProcessSum = { [self] in try sumOverRanks(&$0) } }
    return norms
  }

  /// Makes every rank's buffers (BatchNorm's running statistics) rank 0's or their mean;
  /// under `sync` they are equal already.
  func syncBuffers(_ model: Module, _ mode: BufferSync) throws {
    guard mode != .sync else { return }
    for (name, b) in model.namedBuffers() where b.count > 0 {
      guard b.isContiguous else {
        throw LuaError(
          "lab.fit: buffer '\(name)' is a strided view; data-parallel training syncs whole buffers")
      }
      switch mode {
      case .rank0:
        try world.broadcast(
          UnsafeMutableRawPointer(b.data), bytes: b.count * MemoryLayout<Float>.stride)
      case .mean, .sync:
        let all = try world.allgather(Array(UnsafeBufferPointer(start: b.data, count: b.count)))
        for i in 0..<b.count {
          var s: Float = 0
          for r in 0..<world.size { s += all[r * b.count + i] }
          b.data[i] = s / Float(world.size)
        }
      }
    }
  }
}
