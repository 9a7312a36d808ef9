import MoonlabTensor
import TestSupport
import XCTest

/// Backward stores a leaf's gradient without copying only when nothing else can reach it
/// (Autograd/Backward.swift): gradients an identity backward hands to two leaves, or that
/// are the caller's own seed, are still private copies, so changing one in place (as
/// gradient clipping does) never changes another.
final class GradientOwnershipTests: XCTestCase {
  func testSharedGradientsAreCopiedPerLeaf() throws {
    let a = testTensor([4], seed: 1)
    let b = testTensor([4], seed: 2)
    a.requiresGrad = true
    b.requiresGrad = true
    // add's backward returns the same tensor for both inputs.
    try a.add(b).sum().backward()
    let (ga, gb) = (try XCTUnwrap(a.grad), try XCTUnwrap(b.grad))
    XCTAssertFalse(ga.storage === gb.storage)
    try Autograd.noGrad { try ga.assign(Tensor(scalar: 7), at: [.at(0)]) }
    XCTAssertEqual(gb.toArray(), [1, 1, 1, 1])
  }

  func testTheCallersSeedIsNeverAdopted() throws {
    let x = testTensor([3], seed: 3)
    x.requiresGrad = true
    let seed = try Tensor(shape: [3], values: [1, 2, 3])
    try x.clone().backward(seed)
    XCTAssertFalse(try XCTUnwrap(x.grad).storage === seed.storage)
    try x.backward(seed)  // a leaf as the root
    XCTAssertFalse(try XCTUnwrap(x.grad).storage === seed.storage)
    XCTAssertEqual(x.grad?.toArray(), [2, 4, 6])
  }
}
