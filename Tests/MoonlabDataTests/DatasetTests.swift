import MoonlabTensor
import XCTest

@testable import MoonlabData

final class DatasetTests: XCTestCase {
  func ids(_ n: Int) throws -> Dataset {
    try Dataset(
      name: "ids", sampleShape: [1], storage: .floats((0..<n).map(Float.init)),
      targets: (0..<n).map { Float($0 % 3) })
  }

  func values(_ ds: Dataset) throws -> [Float] {
    try (0..<ds.count).map { try ds.get($0).x.item() }
  }

  func testSubsetAndNestedSubset() throws {
    let ds = try ids(20)
    let sub = try ds.subset(5..<15)
    XCTAssertEqual(try values(sub), (5..<15).map(Float.init))
    XCTAssertEqual(try values(try sub.subset(2..<4)), [7, 8])
    XCTAssertThrowsError(try ds.subset(10..<21)) { e in
      XCTAssertEqual("\(e)", "subset: range 10..<21 is outside 0..<20")
    }
  }

  func testSplitIsDisjointSeededAndComplete() throws {
    let ds = try ids(101)
    let parts = try ds.split([0.9, 0.1], seed: 4)
    XCTAssertEqual(parts.map(\.count), [90, 11])
    let all = try parts.flatMap(values)
    XCTAssertEqual(all.sorted(), (0..<101).map(Float.init))
    XCTAssertEqual(try parts.flatMap(values), try ds.split([0.9, 0.1], seed: 4).flatMap(values))
    XCTAssertNotEqual(try values(parts[0]), try values(try ds.split([0.9, 0.1], seed: 5)[0]))
    XCTAssertEqual(try ds.split([0.5], seed: 1)[0].count, 50)
    XCTAssertThrowsError(try ds.split([0.9, 0.2], seed: 1))
  }

  func testSizeMismatchIsAnError() {
    XCTAssertThrowsError(
      try Dataset(name: "bad", sampleShape: [2], storage: .floats([1, 2, 3]), targets: [0])
    ) { e in
      XCTAssertEqual("\(e)", "bad: 3 values don't fill samples of shape [2]")
    }
    XCTAssertThrowsError(
      try Dataset(name: "bad", sampleShape: [2], storage: .floats([1, 2, 3, 4]), targets: [0]))
  }

  func testSyntheticSets() throws {
    for kind in Synthetic.kinds {
      var o = Synthetic.Options()
      o.n = 1000
      o.kind = kind
      o.seed = 8
      let ds = try Synthetic.make(o)
      XCTAssertEqual(ds.count, 1000)
      XCTAssertEqual(ds.sampleShape, [2])
      let counts = ds.classCounts()
      if kind == "moons" || kind == "circles" {
        XCTAssertEqual(counts, [545, 455], kind)
      } else {
        XCTAssertEqual(counts, [334, 333, 333], kind)
      }
      XCTAssertEqual(try ds.get(17).x.toArray(), try Synthetic.make(o).get(17).x.toArray())
    }
    var o = Synthetic.Options()
    o.kind = "squares"
    XCTAssertThrowsError(try Synthetic.make(o)) { e in
      XCTAssertTrue("\(e)".contains("unknown kind 'squares'"))
    }
  }

  /// Circles: the classes sit at radii 1 and 0.5, so no straight line separates them,
  /// but the radius does.
  func testCirclesAreSeparatedByRadius() throws {
    var o = Synthetic.Options()
    o.kind = "circles"
    o.n = 400
    let ds = try Synthetic.make(o)
    for i in 0..<ds.count {
      let (x, y) = try ds.get(i)
      let p = x.toArray()
      XCTAssertEqual((p[0] * p[0] + p[1] * p[1]).squareRoot() > 0.75, try y.item() == 0)
    }
  }
}
