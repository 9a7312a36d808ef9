import MoonlabTensor
import XCTest

/// Fails the test when `f`'s tape gradients at `inputs` disagree with central differences
/// (`gradcheck`, docs/tensor.md), naming the case and the largest error.
public func assertGradcheck(
  _ name: String, _ inputs: [Tensor], file: StaticString = #filePath, line: UInt = #line,
  _ f: @escaping ([Tensor]) throws -> Tensor
) throws {
  let (ok, maxError) = try gradcheck(f, inputs: inputs)
  XCTAssertTrue(ok, "\(name): max error \(maxError)", file: file, line: line)
}
