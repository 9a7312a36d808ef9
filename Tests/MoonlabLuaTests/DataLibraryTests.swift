import CLua
import Foundation
import MoonlabTensor
import XCTest

@testable import MoonlabLua

/// The `data` library as scripts see it: 1-based labels and indices, transforms
/// configured from Lua, Lambda on the Lua thread, errors naming the op.
final class DataLibraryTests: XCTestCase {
  /// The tensor in global `name`.
  func global(_ h: LuaHost, _ name: String) throws -> Tensor {
    lua_getglobal(h.state, name)
    defer { Lua(h.state).pop() }
    return try Lua(h.state).tensor(-1, "test")
  }

  func testTensorsDatasetIndicesAndLabels() throws {
    let h = try LuaHost()
    let out = try h.run(
      """
      local x = tensor.from{{1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5}}
      local y = tensor.from{1, 2, 2, 1, 2}
      ds = data.tensors(x, y)
      local x3, y3 = ds:get(3)
      x3_ = x3
      for bx, by in data.Loader(ds, {batch_size = 2}):batches() do last_y = by end
      local a, b = ds:split({0.6, 0.4}, 1)
      return #ds, y3, #ds:subset(2, 4), #a, #b, #data.Loader(ds, {batch_size = 2})
      """)
    XCTAssertEqual(out, ["5", "2", "3", "3", "2", "3"])
    XCTAssertEqual(try global(h, "x3_").toArray(), [3, 3])
    // The last batch holds sample 5, label 2 exactly as given: labels come back unchanged.
    XCTAssertEqual(try global(h, "last_y").toArray(), [2])
    XCTAssertThrowsError(try h.run("ds:get(6)")) { e in
      XCTAssertTrue("\(e)".contains("get: index 6 is outside 1…5"), "\(e)")
    }
    XCTAssertThrowsError(try h.run("ds:subset(0, 2)")) { e in
      XCTAssertTrue("\(e)".contains("subset: range 0…2"), "\(e)")
    }
  }

  func testSynthLabelsAreOneBased() throws {
    let h = try LuaHost()
    let out = try h.run(
      """
      local ds = data.synth{n = 50, kind = 'moons', seed = 3}
      for x, y in data.Loader(ds, {batch_size = 50, shuffle = true}):batches() do all_y = y; all_x = x end
      local _, first = ds:get(1)
      return first >= 1 and first <= 2, #ds.classes, ds.classes[1]
      """)
    XCTAssertEqual(out, ["true", "2", "class 1"])
    let y = try global(h, "all_y").toArray()
    XCTAssertEqual(Set(y), [1, 2])
    XCTAssertEqual(y.filter { $0 == 1 }.count, 27)  // 54.5 % of 50, rounded: the majority class
    XCTAssertEqual(try global(h, "all_x").shape, [50, 2])
  }

  func testCIFARLabelsAreOneBasedInLua() throws {
    let h = try LuaHost()
    let root =
      ProcessInfo.processInfo.environment["MOONLAB_DATA"]
      ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../../../shared/data"
      ).standardized.path
    guard FileManager.default.fileExists(atPath: root + "/cifar10/test_batch.bin") else {
      throw XCTSkip("no CIFAR-10 data")
    }
    let out = try h.run(
      """
      local ds = data.cifar10{split = 'train', root = '\(root)'}
      local x, label = ds:get(1)
      return #ds, label, ds.classes[label], #data.cifar10{split = 'test', root = '\(root)'}
      """)
    // The first training image is a frog: 0-based class 6, 1-based 7.
    XCTAssertEqual(out, ["50000", "7", "frog", "10000"])
  }

  func testTransformsAndLambdaOnTheLuaThread() throws {
    let h = try LuaHost()
    var threads: [Bool] = []
    h.registerLibrary(
      "probe",
      [
        "main": { lua in
          threads.append(Thread.isMainThread)
          return 0
        }
      ])
    let out = try h.run(
      """
      local ds = data.cifar10{split = 'test'}
      local tf = data.Compose{
        data.PadCrop{pad = 4, size = 32, fill = 'reflect'}, data.HFlip{p = 0.5},
        data.Lambda(function(x, y) probe.main(); seen_y = y; return x + x end),
        data.Normalize{mean = {0.5, 0.5, 0.5}, std = {0.25, 0.25, 0.25}}}
      local n = 0
      local loader = data.Loader(ds:subset(1, 100), {batch_size = 32, transform = tf, seed = 1})
      for x, y in loader:batches() do n = n + 1; last_x = x end
      return tostring(tf), n, #loader
      """)
    XCTAssertEqual(out, ["Compose{PadCrop, HFlip, Lambda, Normalize}", "4", "4"])
    XCTAssertEqual(threads, [true, true, true, true])
    XCTAssertEqual(try global(h, "last_x").shape, [4, 3, 32, 32])
    XCTAssertTrue(try global(h, "seen_y").toArray().allSatisfy { $0 >= 1 && $0 <= 10 })
  }

  func testErrorsNameTheOp() throws {
    let h = try LuaHost()
    let cases: [(String, String)] = [
      ("data.Compose{data.HFlip{}, 3}", "Compose: element 2 is a number, expected a transform"),
      ("data.PadCrop{fill = 'wrap'}", "PadCrop: fill must be 'zero' or 'reflect'"),
      ("data.HFlip{p = 2}", "HFlip: p must be in [0, 1]"),
      ("data.Normalize{mean = {0.5}}", "Normalize: options 'mean' and 'std' are required"),
      (
        "data.Loader(data.synth{}, {batch_size = 0})", "Loader: batch_size must be in 1…2^31, got 0"
      ),
      ("data.Loader(3)", "bad argument #1 to 'Loader' (Dataset expected, got number)"),
      ("data.synth{kind = 'zigzag'}", "synth: unknown kind 'zigzag'"),
      ("data.synth{n = 1e12}", "synth: n must be in 1…100,000,000"),
      ("data.PadCrop{pad = 1e9, size = 1e9}", "PadCrop: pad must be in 0…4096"),
      ("data.Loader(data.synth{}, {batch_size = 1 << 40})", "Loader: batch_size must be in 1…2^31"),
      ("data.synth{}:split({0.5, 0 / 0})", "split: fractions must be ≥ 0"),
      ("data.mnist{root = '/nonexistent'}", "mnist: no MNIST in /nonexistent/mnist"),
      (
        "for x in data.Loader(data.synth{n = 4}, {transform = data.Lambda(function() error('boom') end)}):batches() do end",
        "Lambda: (string):1: boom"
      ),
      (
        "for x in data.Loader(data.synth{n = 4}, {transform = data.PadCrop{}}):batches() do end",
        "PadCrop: expected images [N,C,H,W], got [4,2]"
      ),
    ]
    for (code, message) in cases {
      XCTAssertThrowsError(try h.run(code), code) { e in
        XCTAssertTrue("\(e)".contains(message), "\(code): \(e)")
      }
    }
  }
}
