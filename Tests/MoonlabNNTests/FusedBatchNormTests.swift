import MoonlabTensor
import TestSupport
import XCTest

@testable import MoonlabNN

/// The fused BatchNorm + ReLU and BatchNorm + add (+ ReLU) nodes against the same ops run
/// one by one: bit-identical outputs, gradients and running statistics, in train and eval
/// mode (docs/nn.md, "Fused BatchNorm").
final class FusedBatchNormTests: XCTestCase {
  /// A BatchNorm2d(c) with non-trivial γ, β and running statistics (the same for every
  /// call with the same seed).
  func batchNorm(_ c: Int, seed: UInt64 = 7) throws -> BatchNorm2d {
    let bn = try BatchNorm2d(c)
    let values = testTensor([4, c], seed: seed).toArray()
    for i in 0..<c {
      bn.weight.data[i] = 1 + 0.5 * values[i]
      bn.bias.data[i] = 0.3 * values[c + i]
      bn.runningMean.data[i] = 0.2 * values[2 * c + i]
      bn.runningVar.data[i] = 1 + 0.5 * abs(values[3 * c + i])
    }
    return bn
  }

  /// Everything one training step of `bn` produces, for bitwise comparison.
  struct Results: Equatable {
    var output, gradInput, gradResidual, gradGamma, gradBeta: [Float]
    var runningMean, runningVar, tracked: [Float]
  }

  /// Runs `f` on fresh leaf copies of `x` and `r` with `bn`, then backward with `g`.
  func results(
    _ bn: BatchNorm, _ x: Tensor, _ r: Tensor, _ g: Tensor,
    _ f: (BatchNorm, Tensor, Tensor) throws -> Tensor
  ) throws -> Results {
    let (xl, rl) = (x.detach(), r.detach())
    xl.requiresGrad = true
    rl.requiresGrad = true
    let y = try f(bn, xl, rl)
    try y.backward(g)
    return Results(
      output: y.toArray(), gradInput: xl.grad?.toArray() ?? [],
      gradResidual: rl.grad?.toArray() ?? [], gradGamma: bn.weight.grad?.toArray() ?? [],
      gradBeta: bn.bias.grad?.toArray() ?? [], runningMean: bn.runningMean.toArray(),
      runningVar: bn.runningVar.toArray(), tracked: bn.numBatchesTracked.toArray())
  }

  /// Fused vs unfused for each variant in train and eval mode, at 1 and 2 threads, with
  /// L = H·W both a multiple of 16 and not (the vector loops' tails).
  func testFusedEqualsUnfusedBitForBit() throws {
    for threads in [1, 2] {
      try inRun(threads: threads) {
        for shape in [[4, 3, 8, 8], [5, 2, 5, 3], [6, 4]] {
          let x = testTensor(shape, seed: 1)
          let r = testTensor(shape, seed: 2)
          let g = testTensor(shape, seed: 3)
          for (add, relu) in [(false, true), (true, false), (true, true)] {
            for train in [true, false] {
              let c = shape[1]
              let a = shape.count == 4 ? try batchNorm(c) as BatchNorm : try BatchNorm1d(c)
              let b = shape.count == 4 ? try batchNorm(c) as BatchNorm : try BatchNorm1d(c)
              a.train(train)
              b.train(train)
              let fused = try results(a, x, r, g) {
                try $0.forward($1, adding: add ? $2 : nil, relu: relu)
              }
              let unfused = try results(b, x, r, g) { bn, x, r in
                let y = add ? try bn(x).add(r) : try bn(x)
                return relu ? y.relu() : y
              }
              XCTAssertEqual(
                fused, unfused,
                "add \(add) relu \(relu) \(shape) train \(train), \(threads) threads")
            }
          }
        }
      }
    }
  }

  /// A Sequential runs BatchNorm + ReLU as one node, and a Residual whose block ends in a
  /// BatchNorm followed by a ReLU as one BN+add+ReLU node; anything else stays unfused.
  func testContainersPickTheFusedPath() throws {
    let x = testTensor([2, 3, 4, 4])
    x.requiresGrad = true
    let conv = try Conv2d(3, 3, kernelSize: 3, padding: 1)
    XCTAssertEqual(
      try Sequential([conv, try batchNorm(3), ReLU()])(x).node?.name, "BatchNorm2d+ReLU")
    let block = Sequential([conv, try batchNorm(3), ReLU(), conv, try batchNorm(3)])
    XCTAssertEqual(
      try Sequential([Residual(block), ReLU()])(x).node?.name, "BatchNorm2d+add+ReLU")
    XCTAssertEqual(try Residual(block, relu: true)(x).node?.name, "BatchNorm2d+add+ReLU")
    XCTAssertEqual(try Residual(block)(x).node?.name, "BatchNorm2d+add")
    XCTAssertEqual(try Residual(try batchNorm(3), relu: true)(x).node?.name, "BatchNorm2d+add+ReLU")
    // Not a BatchNorm at the end of the block, or no ReLU next: separate nodes.
    XCTAssertEqual(try Sequential([Residual(conv), ReLU()])(x).node?.name, "relu")
    XCTAssertEqual(try Sequential([try batchNorm(3), Sigmoid()])(x).node?.name, "sigmoid")
    XCTAssertEqual(try Sequential([try batchNorm(3)])(x).node?.name, "BatchNorm2d")
  }

  /// A ResNet basic block with a downsampling shortcut, fused vs its ops one by one.
  func testResidualBlockEqualsUnfused() throws {
    func block() throws -> (Sequential, Sequential) {
      RunContext.current.reseed(3)
      let main = Sequential([
        try Conv2d(2, 4, kernelSize: 3, stride: 2, padding: 1), try batchNorm(4), ReLU(),
        try Conv2d(4, 4, kernelSize: 3, padding: 1), try batchNorm(4, seed: 8),
      ])
      let shortcut = Sequential([
        try Conv2d(2, 4, kernelSize: 1, stride: 2), try batchNorm(4, seed: 9),
      ])
      return (main, shortcut)
    }
    let x = testTensor([3, 2, 6, 6])
    let g = testTensor([3, 4, 3, 3], seed: 5)
    for train in [true, false] {
      let (m1, s1) = try block()
      let fused = Sequential([Residual(m1, shortcut: s1), ReLU()])
      let (m2, s2) = try block()
      fused.train(train)
      m2.train(train)
      s2.train(train)
      let (x1, x2) = (x.detach(), x.detach())
      x1.requiresGrad = true
      x2.requiresGrad = true
      let y1 = try fused(x1)
      var h = x2
      for layer in m2.layers { h = try layer.forward(h) }  // one node per module
      let y2 = try h.add(try s2.layers[1].forward(try s2.layers[0].forward(x2))).relu()
      XCTAssertEqual(y1.node?.name, "BatchNorm2d+add+ReLU")
      XCTAssertEqual(y1.toArray(), y2.toArray())
      try y1.backward(g)
      try y2.backward(g)
      XCTAssertEqual(x1.grad?.toArray(), x2.grad?.toArray())
      let p1 = fused.namedParameters() + fused.namedBuffers()
      let p2 =
        Residual(m2, shortcut: s2).namedParameters() + Residual(m2, shortcut: s2).namedBuffers()
      XCTAssertEqual(p1.map(\.name), p2.map { "0." + $0.name })
      for (a, b) in zip(p1, p2) {
        XCTAssertEqual(a.tensor.toArray(), b.tensor.toArray(), a.name)
        XCTAssertEqual(a.tensor.grad?.toArray(), b.tensor.grad?.toArray(), a.name)
      }
    }
  }

  /// The fused ops' gradients against finite differences. Inputs are built so every
  /// pre-activation is at least 0.2 away from ReLU's kink.
  func testGradcheck() throws {
    let bn = try batchNorm(3)
    let x = testTensor([4, 3, 3, 3], seed: 11)
    // Choose the residual so that bn(x) + r = ±(0.2 + |u|).
    let z = try Autograd.noGrad { try bn(x) }
    let u = testTensor(x.shape, seed: 12)
    let r = Tensor(zeros: x.shape)
    for i in 0..<r.count {
      let target = (u.data[i] < 0 ? -1 : 1) * (0.2 + abs(u.data[i]))
      r.data[i] = target - z.data[i]
    }
    for relu in [false, true] {
      let (ok, err) = try gradcheck(
        { try bn.forward($0[0], adding: $0[1], relu: relu) }, inputs: [x, r])
      XCTAssertTrue(ok, "BN+add, relu \(relu): max error \(err)")
    }
    // γ and β: testFusedEqualsUnfusedBitForBit shows they equal the unfused layer's,
    // which the PyTorch fixtures check.
  }

  /// Same seed, same thread count: the same numbers, run after run.
  func testDeterministicAtTwoThreads() throws {
    let x = testTensor([8, 16, 16, 16])
    let g = testTensor(x.shape, seed: 4)
    let runs = try (0..<2).map { _ in
      try inRun(threads: 2) {
        try results(try batchNorm(16), x, x, g) { try $0.forward($1, adding: $2, relu: true) }
      }
    }
    XCTAssertEqual(runs[0], runs[1])
  }
}
