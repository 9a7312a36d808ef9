import XCTest

@testable import MoonlabTensor

final class StoragePoolTests: XCTestCase {
  /// A freed large buffer comes back for the next tensor of its size, and a zero-filled
  /// request sees zeros even though the buffer held data before.
  func testLargeBuffersAreReusedAndZeroedOnRequest() throws {
    let n = 1 << 18  // 1 MB
    var first: Tensor? = try Tensor.full([n], 7)
    let address = first.map { UnsafeMutableRawPointer($0.data) }
    let heldBefore = StoragePool.held
    first = nil
    XCTAssertEqual(StoragePool.held, heldBefore + 4 * n)
    let second = try Tensor.zeros([n])
    XCTAssertEqual(UnsafeMutableRawPointer(second.data), address)
    XCTAssertEqual(second.sum().toArray(), [0])
  }
}
