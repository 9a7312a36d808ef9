import MoonlabTensor
import TestSupport
import XCTest

/// Strided views (transpose, permute, expand, inner-dimension slices) share their input's
/// storage: writes go both ways through any chain of views, kernels read them like
/// contiguous tensors, gradients flow back, and the version counter sees writes made
/// through them (docs/tensor.md, "Indexing, views and copies").
final class StridedViewTests: XCTestCase {
  func testTransposeSharesStorageBothWays() throws {
    let x = try Tensor.arange(6).reshape([2, 3])
    let t = try x.transpose(0, 1)
    XCTAssertTrue(t.storage === x.storage)
    XCTAssertFalse(t.isContiguous)
    XCTAssertEqual(t.strides, [1, 3])
    XCTAssertEqual(t.toArray(), [0, 3, 1, 4, 2, 5])
    // Base → view: the next read sees the write.
    try x.assign(Tensor(scalar: 40), at: [.at(1), .at(1)])
    XCTAssertEqual(t.toArray(), [0, 3, 1, 40, 2, 5])
    // View → base, and → a second view of the same storage.
    let u = try x.permute([1, 0])
    _ = u.toArray()
    try t.assign(Tensor(scalar: -7), at: [.at(2), .at(0)])
    XCTAssertEqual(x.toArray(), [0, 1, -7, 3, 40, 5])
    XCTAssertEqual(u.toArray(), [0, 3, 1, 40, -7, 5])
    XCTAssertEqual(x.storage.version, 2)
  }

  func testChainsOfViewsComposeOnTheStorage() throws {
    let x = try Tensor.arange(24).reshape([2, 3, 4])
    // x.permute(2, 0, 1)[1:3, :, 2] in PyTorch: shape [2, 2], values [[9, 21], [10, 22]].
    let v = try x.permute([2, 0, 1]).narrow(dim: 0, start: 1, length: 2).select(dim: 2, index: 2)
    XCTAssertEqual(v.shape, [2, 2])
    XCTAssertEqual(v.strides, [1, 12])
    XCTAssertEqual(v.offset, 9)
    XCTAssertEqual(v.toArray(), [9, 21, 10, 22])
    try v.assign(Tensor(scalar: 0), at: [.all, .at(1)])
    XCTAssertEqual(x.data[21], 0)
    XCTAssertEqual(x.data[22], 0)
    XCTAssertEqual(x.data[9], 9)
    // A contiguous block of a strided view is a contiguous view again.
    let row = try x.transpose(1, 2).transpose(1, 2).select(dim: 0, index: 1)
    XCTAssertTrue(row.isContiguous)
    XCTAssertEqual(row.offset, 12)
    // reshape of a strided view copies; contiguous() copies once and is then itself.
    let flat = try x.transpose(0, 2).reshape([-1])
    XCTAssertTrue(flat.isContiguous)
    XCTAssertFalse(flat.storage === x.storage)
    XCTAssertEqual(Array(flat.toArray().prefix(3)), [0, 12, 4])
    let c = try x.transpose(0, 2).contiguous()
    XCTAssertTrue(try c.contiguous() === c)
  }

  func testExpandIsAReadOnlyView() throws {
    let x = try Tensor(shape: [3, 1], values: [1, 2, 3])
    let e = try x.expand([2, 3, 4])
    XCTAssertEqual(e.strides, [0, 1, 0])
    XCTAssertTrue(e.storage === x.storage)
    try x.assign(Tensor(scalar: 9), at: [.at(0)])
    XCTAssertEqual(Array(e.toArray().prefix(5)), [9, 9, 9, 9, 2])
    XCTAssertThrowsError(try e.assign(Tensor(scalar: 0), at: [.at(0)])) { error in
      XCTAssertTrue("\(error)".contains("can't write into an expanded tensor"), "\(error)")
    }
    XCTAssertEqual(x.toArray(), [9, 2, 3])
  }

  func testKernelsReadStridedViewsOnEveryThread() throws {
    try inRun(threads: 2, splitTinyBatches: true) {
      let x = testTensor([64, 48], seed: 4)
      let t = try x.transpose(0, 1)
      let copy = try t.contiguous()
      XCTAssertEqual(try t.mul(t).add(1).toArray(), try copy.mul(copy).add(1).toArray())
      XCTAssertEqual(try t.matmul(x).toArray(), try copy.matmul(x).toArray())
      XCTAssertEqual(try t.sum(dim: 1).toArray(), try copy.sum(dim: 1).toArray())
    }
  }

  func testGradientsFlowThroughViewChains() throws {
    let x = testTensor([3, 4, 2], seed: 5)
    try assertGradcheck("transpose·narrow", [x]) {
      try $0[0].transpose(0, 2).narrow(dim: 1, start: 1, length: 2).mul(
        $0[0].transpose(0, 2).narrow(dim: 1, start: 0, length: 2))
    }
    try assertGradcheck("permute·select·expand", [x]) {
      try $0[0].permute([1, 2, 0]).select(dim: 1, index: 1).unsqueeze(dim: 0).expand([2, 4, 3])
        .mul(2)
    }
    try assertGradcheck("t·matmul", [testTensor([3, 4], seed: 6)]) {
      try $0[0].transposed().matmul($0[0])
    }
  }

  func testWritesThroughAViewInvalidateSavedTensors() throws {
    let leaf = testTensor([2, 3], seed: 7)
    leaf.requiresGrad = true
    let base = try leaf.mul(1)
    let t = try base.transpose(0, 1)
    let product = try t.mul(t)
    try Autograd.noGrad { try base.assign(Tensor(scalar: 0), at: [.at(0), .at(0)]) }
    XCTAssertThrowsError(try product.sum().backward()) { error in
      XCTAssertTrue("\(error)".contains("was modified in place"), "\(error)")
    }
  }

  func testDetachedViewStillSharesStorage() throws {
    let x = try Tensor.arange(6).reshape([2, 3])
    let d = try x.transpose(0, 1).detach()
    try x.assign(Tensor(scalar: 100), at: [.at(0), .at(2)])
    XCTAssertEqual(d.toArray(), [0, 3, 1, 4, 100, 5])
  }
}
