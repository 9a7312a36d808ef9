import CLua
import Foundation
import MoonlabTensor
import TestSupport
import XCTest

@testable import MoonlabLua

/// The pieces of airbench94's data pipeline as scripts use them: `data.AlternatingFlip`,
/// the CIFAR-10 loader at batch 1024, and the test-time-augmentation views built with
/// `x:flip`, `tensor.pad` and `narrow` (docs/data.md, docs/tensor.md "Padding").
final class AirbenchDataTests: XCTestCase {
  func global(_ h: LuaHost, _ name: String) throws -> Tensor {
    lua_getglobal(h.state, name)
    defer { Lua(h.state).pop() }
    return try Lua(h.state).tensor(-1, "test")
  }

  /// Images (2i, 2i+1) tell their index and whether they were flipped: over three epochs
  /// (shuffled, drop_last) each image flips one way in epochs 1 and 3, the other in 2.
  func testAlternatingFlipFromLua() throws {
    let h = try LuaHost()
    let out = try h.run(
      """
      local n = 40
      local ds = data.tensors(tensor.arange(2 * n):reshape{n, 1, 1, 2}, tensor.ones{n})
      local loader = data.Loader(ds, {batch_size = 6, shuffle = true, drop_last = true, seed = 7,
        transform = data.Compose{data.AlternatingFlip{}, data.Normalize{mean = {0}, std = {1}}}})
      local flipped = {}
      for e = 1, 3 do
        flipped[e] = {}
        for x in loader:batches() do
          for k = 1, x:size(1) do
            local a, b = x[{k, 1, 1, 1}], x[{k, 1, 1, 2}]
            flipped[e][math.floor(math.min(a, b) / 2)] = a > b
          end
        end
      end
      local seen, same13, differ12, heads = 0, 0, 0, 0
      for i = 0, n - 1 do
        local a, b, c = flipped[1][i], flipped[2][i], flipped[3][i]
        if a ~= nil and b ~= nil and c ~= nil then
          seen = seen + 1
          if a == c then same13 = same13 + 1 end
          if a ~= b then differ12 = differ12 + 1 end
          if a then heads = heads + 1 end
        end
      end
      return #loader, seen == same13, seen == differ12, seen > 20, heads > 0 and heads < seen
      """)
    XCTAssertEqual(out, ["6", "true", "true", "true", "true"])
    XCTAssertEqual(
      try h.run(
        "return tostring(data.Compose{data.PadCrop{pad = 2, size = 32, fill = 'reflect'}, data.AlternatingFlip()})"
      ), ["Compose{PadCrop, AlternatingFlip}"])
    XCTAssertThrowsError(try h.run("data.AlternatingFlip{p = 0.5}")) { e in
      XCTAssertTrue("\(e)".contains("AlternatingFlip: unknown option 'p' (it takes none)"), "\(e)")
    }
  }

  /// airbench94's training loader: 50,000 images at batch 1024 with drop_last are 48
  /// batches, each [1024,3,32,32].
  func testCIFAR10LoaderAtBatch1024() throws {
    guard let root = TestPaths.data?.path,
      FileManager.default.fileExists(atPath: root + "/cifar10/data_batch_5.bin")
    else { throw XCTSkip("no CIFAR-10 data") }
    let h = try LuaHost()
    let out = try h.run(
      """
      local train = data.cifar10{split = 'train', root = '\(root)'}
      local loader = data.Loader(train, {batch_size = 1024, shuffle = true, drop_last = true, seed = 1,
        transform = data.Compose{
          data.PadCrop{pad = 2, size = 32, fill = 'reflect'}, data.AlternatingFlip{},
          data.Normalize{mean = {0.4914, 0.4822, 0.4465}, std = {0.2470, 0.2435, 0.2616}}}})
      local n, images, shapes = 0, 0, true
      for x, y in loader:batches() do
        n = n + 1
        images = images + x:size(1)
        local s = x:shape()
        shapes = shapes and s[1] == 1024 and s[2] == 3 and s[3] == 32 and s[4] == 32 and y:size(1) == 1024
      end
      return #train, #loader, n, images, shapes
      """)
    XCTAssertEqual(out, ["50000", "48", "48", "49152", "true"])
  }

  struct Values: Decodable {
    let shape: [Int]
    let values: [Float]
  }
  struct TTA: Decodable {
    let input: Values
    let views: [Values]
  }
  struct Fixture: Decodable { let tta: TTA }

  /// airbench94's six test-time views (image, its mirror, and the mirrored and plain
  /// crops at offsets 0 and 2 of the reflect-padded image) against PyTorch's.
  func testTestTimeAugmentationViewsMatchPyTorch() throws {
    let url = TestPaths.repository.appendingPathComponent(
      "Tests/MoonlabTensorTests/Fixtures/pad_fixtures.json")
    let tta = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url)).tta
    let h = try LuaHost()
    Lua(h.state).push(try Tensor(shape: tta.input.shape, values: tta.input.values))
    lua_setglobal(h.state, "x")
    _ = try h.run(
      """
      local p = tensor.pad(x, {1, 1, 1, 1}, {mode = 'reflect'})
      local c0 = p:narrow(3, 1, 5):narrow(4, 1, 5)
      local c2 = p:narrow(3, 3, 5):narrow(4, 3, 5)
      v1, v2, v3, v4, v5, v6 = x, x:flip(4), c0, c0:flip(4), c2, c2:flip(4)
      """)
    XCTAssertEqual(tta.views.count, 6)
    for (k, want) in tta.views.enumerated() {
      let got = try global(h, "v\(k + 1)")
      XCTAssertEqual(got.shape, want.shape, "view \(k + 1)")
      XCTAssertEqual(got.toArray(), want.values, "view \(k + 1)")
    }
  }

  func testPadFromLua() throws {
    let h = try LuaHost()
    let out = try h.run(
      """
      local x = tensor.from{{1, 2, 3}}
      local a = x:pad({2, 1}, {mode = 'reflect'})
      local b = tensor.pad(x, {1, 0, 0, 1}, {value = -1})
      local c = x:pad({-1, 1}, {mode = 'replicate'})
      local w = tensor.from{{1, 2, 3}}:requires_grad_()
      w:pad({2, 2}, {mode = 'reflect'}):sum():backward()
      return a:tolist()[1][1], #a:tolist()[1], b:size(1), b[{2, 1}], c:tolist()[1][3],
        w.grad[{1, 2}], x:pad({}):numel()
      """)
    XCTAssertEqual(out, ["3.0", "6", "2", "-1.0", "3.0", "3.0", "3"])
    let cases: [(String, String)] = [
      (
        "tensor.zeros{2, 3}:pad({1, 1}, {mode = 'wrap'})",
        "pad: mode must be 'constant', 'reflect' or 'replicate', got 'wrap'"
      ),
      (
        "tensor.zeros{2, 3}:pad({1, 1}, {mode = 'reflect', value = 1})",
        "option 'value' only applies to mode 'constant'"
      ),
      ("tensor.zeros{2, 3}:pad({1, 1, 1})", "pad: pads must come in (before, after) pairs, got 3"),
      ("tensor.zeros{2, 3}:pad({1, 1, 1, 1, 1, 1})", "pad: 6 pads cover 3 dimensions"),
      ("tensor.zeros{2, 3}:pad({3, 0}, {mode = 'reflect'})", "reflect padding must be smaller"),
      ("tensor.zeros{2, 3}:pad({-2, -2})", "would have a negative size -1"),
      ("tensor.zeros{2, 3}:pad(1)", "bad argument #2 to 'pad' (table expected, got number)"),
      ("tensor.zeros{2, 3}:pad({1.5, 1})", "element 1 of the table is not an integer"),
      ("tensor.zeros{2, 3}:pad({1, 1}, {fill = 1})", "pad: unknown option 'fill'"),
    ]
    for (code, message) in cases {
      XCTAssertThrowsError(try h.run(code), code) { e in
        XCTAssertTrue("\(e)".contains(message), "\(code): \(e)")
      }
    }
  }
}
