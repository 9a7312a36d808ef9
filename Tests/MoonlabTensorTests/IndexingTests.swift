import MoonlabTensor
import TestSupport
import XCTest

/// Views sharing storage, in-place assignment and its autograd rules, gradchecks of every
/// indexing, view and join op, and their error messages (docs/tensor.md, "Indexing, views and copies").
final class IndexingTests: XCTestCase {
  func assertThrows(
    _ expected: String, file: StaticString = #filePath, line: UInt = #line,
    _ body: () throws -> Void
  ) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
      let message = (error as? TensorError)?.message ?? "\(error)"
      XCTAssertTrue(message.hasPrefix(expected), "got: \(message)", file: file, line: line)
    }
  }

  func testContiguousBlocksAreViewsSharingStorage() throws {
    let x = try Tensor.arange(12).reshape([3, 4])
    let row = try x.select(dim: 0, index: 1)
    let rows = try x.narrow(dim: 0, start: 1, length: 2)
    XCTAssertTrue(row.storage === x.storage)
    XCTAssertTrue(rows.storage === x.storage)
    XCTAssertEqual(row.offset, 4)
    XCTAssertEqual(try x.index([.range(2..<3), .range(1..<3)]).offset, 9)
    XCTAssertTrue(try rows.reshape([-1]).storage === x.storage)
    XCTAssertTrue(try row.unsqueeze(dim: 0).squeeze().storage === x.storage)
    XCTAssertEqual(row.toArray(), [4, 5, 6, 7])
    // A write through a view changes the base, and the base's version.
    try row.assign(Tensor(scalar: -1), at: [.at(2)])
    XCTAssertEqual(x.data[6], -1)
    XCTAssertEqual(x.storage.version, 1)
    // Strided results are views too; flip copies, as in PyTorch.
    XCTAssertTrue(try x.narrow(dim: 1, start: 0, length: 2).storage === x.storage)
    XCTAssertTrue(try x.transpose(0, 1).storage === x.storage)
    XCTAssertFalse(try x.flip([1]).storage === x.storage)
    XCTAssertTrue(try x.contiguous() === x)
  }

  func testAssignmentWritesRangesAndMasks() throws {
    let x = Tensor(zeros: [2, 3])
    try x.assign(
      try Tensor(shape: [2], values: [1, 2]).reshape([2, 1]), at: [.all, .range(1..<3)])
    XCTAssertEqual(x.toArray(), [0, 1, 1, 0, 2, 2])
    try x.assign(Tensor(scalar: 5), where: try Tensor(shape: [2, 3], values: [1, 0, 0, 0, 0, 1]))
    XCTAssertEqual(x.toArray(), [5, 1, 1, 0, 2, 5])
    try x.assign(
      try Tensor(shape: [2], values: [7, 8]),
      where: try Tensor(shape: [2, 3], values: [0, 1, 0, 1, 0, 0]))
    XCTAssertEqual(x.toArray(), [5, 7, 1, 8, 2, 5])
    // Overlapping source and target: the value is read before it is overwritten.
    let y = try Tensor.arange(4)
    try y.assign(try y.flip([0]), at: [])
    XCTAssertEqual(y.toArray(), [3, 2, 1, 0])
    try y.assign(try y.narrow(dim: 0, start: 0, length: 3), at: [.range(1..<4)])
    XCTAssertEqual(y.toArray(), [3, 3, 2, 1])
  }

  func testAssignmentFollowsAutogradRules() throws {
    let leaf = testTensor([2, 3])
    leaf.requiresGrad = true
    assertThrows("index assignment: a leaf tensor that requires grad can't be changed in place") {
      try leaf.assign(Tensor(scalar: 0), at: [.at(0)])
    }
    try Autograd.noGrad { try leaf.assign(Tensor(scalar: 0), at: [.at(0)]) }
    XCTAssertEqual(leaf.data[0], 0)
    // A non-leaf: the gradient stops at overwritten elements and flows to the value.
    let v = testTensor([3], seed: 2)
    v.requiresGrad = true
    let y = try leaf.mul(2)
    try y.assign(v, at: [.at(1)])
    XCTAssertEqual(y.node?.name, "index assignment")
    try y.sum().backward()
    XCTAssertEqual(leaf.grad?.toArray(), [2, 2, 2, 0, 0, 0])
    XCTAssertEqual(v.grad?.toArray(), [1, 1, 1])
    // A view while recording is refused; a saved tensor changed through a view is caught.
    let z = try leaf.mul(3)
    assertThrows("index assignment: can't assign into a view while recording") {
      try z.select(dim: 0, index: 0).assign(Tensor(scalar: 1), at: [])
    }
    assertThrows("scatter_add_: a leaf tensor that requires grad can't be changed in place") {
      try leaf.scatterAddInPlace(
        dim: 0, index: Tensor(zeros: [1, 3]), source: Tensor(zeros: [1, 3]))
    }
    let saved = try leaf.mul(1)
    let product = try saved.mul(saved)
    try Autograd.noGrad { try saved.select(dim: 0, index: 0).assign(Tensor(scalar: 1), at: []) }
    assertThrows("backward: input 1 of mul was modified in place") { try product.sum().backward() }
  }

  /// As in PyTorch, scatter_add's source may be larger than its index: only the block the
  /// index covers is read (and gets a gradient; PyTorch has none for this case).
  func testScatterAddReadsTheIndexedBlockOfALargerSource() throws {
    let source = try Tensor.arange(start: 1, end: 7, step: 1).reshape([2, 3])
    let index = try Tensor(shape: [1, 2], values: [2, 0])
    let out = try Tensor(zeros: [2, 3]).scatterAdd(dim: 1, index: index, source: source)
    XCTAssertEqual(out.toArray(), [2, 0, 1, 0, 0, 0])
    let y = Tensor(zeros: [2, 3])
    try y.scatterAddInPlace(
      dim: 0, index: try Tensor(shape: [1, 2], values: [1, 0]), source: source)
    XCTAssertEqual(y.toArray(), [0, 2, 0, 1, 0, 0])
    try assertGradcheck("scatter_add larger source", [testTensor([2, 3], seed: 9)]) {
      try Tensor(zeros: [2, 3]).scatterAdd(dim: 1, index: index, source: $0[0]).mul(2)
    }
  }

  func testGradchecks() throws {
    let x = testTensor([3, 4, 2], seed: 3)
    try assertGradcheck("index", [x]) { try $0[0].index([.range(1..<3), .at(2)]) }
    try assertGradcheck("narrow", [x]) { try $0[0].narrow(dim: 1, start: 1, length: 2) }
    try assertGradcheck("select", [x]) { try $0[0].select(dim: 2, index: 1) }
    try assertGradcheck("transpose", [x]) { try $0[0].transpose(0, 2) }
    try assertGradcheck("permute", [x]) { try $0[0].permute([1, 2, 0]) }
    try assertGradcheck("expand", [testTensor([3, 1], seed: 4)]) { try $0[0].expand([2, 3, 4]) }
    try assertGradcheck("flip", [x]) { try $0[0].flip([0, 1]) }
    try assertGradcheck("repeatTensor", [testTensor([2, 3], seed: 5)]) {
      try $0[0].repeatTensor([2, 1, 2])
    }
    try assertGradcheck("squeeze/unsqueeze", [testTensor([2, 1, 3], seed: 6)]) {
      try $0[0].squeeze().unsqueeze(dim: -1)
    }
    let index = try Tensor(shape: [3], values: [2, 0, 2])
    try assertGradcheck("index_select", [x]) { try $0[0].indexSelect(dim: 1, index: index) }
    let positions = try Tensor(shape: [3, 2, 1], values: [0, 3, 3, 1, 2, 2])
    try assertGradcheck("gather", [x]) { try $0[0].gather(dim: 1, index: positions) }
    try assertGradcheck("scatter_add", [x, testTensor([3, 2, 1], seed: 7)]) {
      try $0[0].scatterAdd(dim: 1, index: positions, source: $0[1])
    }
    try assertGradcheck("scatter_add_", [x, testTensor([3, 2, 1], seed: 7)]) {
      let y = $0[0].clone()
      try y.scatterAddInPlace(dim: 1, index: positions, source: $0[1])
      return y
    }
    let mask = try Tensor(shape: [3, 4, 2], values: (0..<24).map { Float($0 % 3 == 0 ? 1 : 0) })
    try assertGradcheck("masked", [x]) { try $0[0].masked(mask) }
    try assertGradcheck("masked_fill", [x]) { try $0[0].maskedFill(mask, 3) }
    try assertGradcheck("where", [x, testTensor([4, 1], seed: 8)]) {
      try Tensor.where(mask, $0[0], $0[1])
    }
    try assertGradcheck("cat", [x, testTensor([3, 1, 2], seed: 9)]) { try Tensor.cat($0, dim: 1) }
    try assertGradcheck("stack", [x, testTensor([3, 4, 2], seed: 10)]) {
      try Tensor.stack($0, dim: 3)
    }
    try assertGradcheck("split", [x]) { try $0[0].split(size: 3, dim: 1)[1] }
    try assertGradcheck("chunk", [x]) {
      try $0[0].chunk(2, dim: 0)[0].mul(try $0[0].chunk(2, dim: 0)[1].sum())
    }
    let v = testTensor([3, 2], seed: 11)
    try assertGradcheck("index assignment", [x, v]) { inputs in
      let y = try inputs[0].mul(1)
      try y.assign(inputs[1], at: [.all, .at(1)])
      return y
    }
  }

  func testErrors() throws {
    let x = Tensor(zeros: [2, 3])
    assertThrows("index: index 2 out of range for dimension 1 of size 2") {
      _ = try x.index([.at(2)])
    }
    assertThrows("index: 3 indices for a tensor of shape [2,3]") {
      _ = try x.index([.all, .all, .all])
    }
    assertThrows("narrow: start 2 and length 2 out of range for dimension 2 of size 3") {
      _ = try x.narrow(dim: 1, start: 2, length: 2)
    }
    assertThrows("select: dimension 2 out of range for a 2-d tensor") {
      _ = try x.select(dim: 2, index: 0)
    }
    assertThrows("permute: [0, 0] is not a permutation") { _ = try x.permute([0, 0]) }
    assertThrows("expand: can't expand shape [2,3] to [2,4]") { _ = try x.expand([2, 4]) }
    assertThrows("repeatTensor: repeats [2] must be ≥ 0 and at least one per dimension") {
      _ = try x.repeatTensor([2])
    }
    let bad = try Tensor(shape: [1], values: [3])
    assertThrows("index_select: index 3 at position 1 is out of range 0..2") {
      _ = try x.indexSelect(dim: 1, index: bad)
    }
    assertThrows("gather: index of shape [1] doesn't fit tensor of shape [2,3]") {
      _ = try x.gather(dim: 0, index: bad)
    }
    assertThrows("scatter_add: source of shape [1,1] is smaller than index of shape [1,2]") {
      _ = try x.scatterAdd(dim: 0, index: Tensor(zeros: [1, 2]), source: Tensor(zeros: [1, 1]))
    }
    assertThrows("masked select: mask of shape [3] doesn't match tensor of shape [2,3]") {
      _ = try x.masked(Tensor(zeros: [3]))
    }
    assertThrows("masked_fill: shapes [2] and [2,3] can't be broadcast") {
      _ = try x.maskedFill(Tensor(zeros: [2]), 1)
    }
    assertThrows("index assignment: value of shape [2,3] doesn't fit the selection of shape [3]") {
      try x.assign(x, at: [.at(0)])
    }
    assertThrows("masked assignment: 2 values for 6 selected elements") {
      try x.assign(Tensor(zeros: [2]), where: Tensor.ones([2, 3]))
    }
    assertThrows("cat: tensor 2 has shape [3,3], expected [2,3] except along dimension 2") {
      _ = try Tensor.cat([x, Tensor(zeros: [3, 3])], dim: 1)
    }
    assertThrows("stack: tensor 2 has shape [3], expected [2,3]") {
      _ = try Tensor.stack([x, Tensor(zeros: [3])], dim: 0)
    }
    assertThrows("split: piece size must be positive, got 0") { _ = try x.split(size: 0, dim: 0) }
    assertThrows("chunk: number of chunks must be positive, got 0") { _ = try x.chunk(0, dim: 0) }
  }

  func testSplitAndChunkSizes() throws {
    let x = try Tensor.arange(7)
    XCTAssertEqual(try x.split(size: 3, dim: 0).map(\.count), [3, 3, 1])
    XCTAssertEqual(try x.chunk(3, dim: 0).map(\.count), [3, 3, 1])
    XCTAssertEqual(try Tensor.arange(6).chunk(4, dim: 0).map(\.count), [2, 2, 2])
    XCTAssertEqual(try x.chunk(2, dim: 0)[1].toArray(), [4, 5, 6])
    // An empty dimension: one empty piece, as PyTorch's split and chunk.
    let empty = Tensor(zeros: [0, 3])
    XCTAssertEqual(try empty.split(size: 2, dim: 0).map(\.shape), [[0, 3]])
    XCTAssertEqual(try empty.chunk(2, dim: 0).map(\.shape), [[0, 3]])
  }
}
