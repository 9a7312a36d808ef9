import MoonlabTensor
import XCTest

final class GeneratorTests: XCTestCase {
  func testStreamsAreReproducibleAndIndependent() {
    let a = Generator(seed: 42, stream: "init"), b = Generator(seed: 42, stream: "init")
    let c = Generator(seed: 42, stream: "shuffle")
    let xs = (0..<8).map { _ in a.next() }
    XCTAssertEqual(xs, (0..<8).map { _ in b.next() })
    XCTAssertNotEqual(xs, (0..<8).map { _ in c.next() })
  }

  func testUniformAndNormalMoments() {
    let g = Generator(seed: 7)
    let n = 200_000
    var s = 0.0, s2 = 0.0, u = 0.0
    for _ in 0..<n {
      let x = Double(g.normal())
      s += x
      s2 += x * x
      u += Double(g.uniform())
    }
    XCTAssertEqual(s / Double(n), 0, accuracy: 0.01)
    XCTAssertEqual(s2 / Double(n), 1, accuracy: 0.02)
    XCTAssertEqual(u / Double(n), 0.5, accuracy: 0.005)
  }

  func testBelowIsInRangeAndPermutationIsAPermutation() {
    let g = Generator(seed: 1)
    for n in [1, 2, 3, 10, 1000] {
      for _ in 0..<100 { XCTAssertTrue((0..<n).contains(g.below(n))) }
    }
    XCTAssertEqual(g.permutation(100).sorted(), Array(0..<100))
  }
}
