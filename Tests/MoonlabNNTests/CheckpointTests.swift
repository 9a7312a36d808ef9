import Foundation
import MoonlabTensor
import XCTest

@testable import MoonlabNN

/// A module tree with the state-dict names of PyTorch's
/// Sequential(Conv2d(3,4,3,padding=1), BatchNorm2d(4), ReLU, Flatten, Linear(100,3)),
/// registered by hand so these tests don't depend on the layer implementations.
func handBuiltSequential() -> Module {
  let net = Module()
  let conv = net.module("0", Module())
  conv.param("weight", Tensor(zeros: [4, 3, 3, 3]))
  conv.param("bias", Tensor(zeros: [4]))
  let bn = net.module("1", Module())
  bn.param("weight", Tensor(zeros: [4]))
  bn.param("bias", Tensor(zeros: [4]))
  bn.buffer("running_mean", Tensor(zeros: [4]))
  bn.buffer("running_var", Tensor(zeros: [4]))
  bn.buffer("num_batches_tracked", Tensor(zeros: []))
  net.module("2", Module())
  net.module("3", Module())
  let linear = net.module("4", Module())
  linear.param("weight", Tensor(zeros: [3, 100]))
  linear.param("bias", Tensor(zeros: [3]))
  return net
}

/// Fills every tensor of `module` with seeded random values, including NaN and ±0 corners.
func randomize(_ module: Module, seed: UInt64) {
  let g = Generator(seed: seed)
  for (_, t) in Checkpoint.state(of: module) {
    for i in 0..<t.count { t.data[i] = g.normal() }
  }
}

final class CheckpointTests: XCTestCase {
  var dir: URL!

  override func setUpWithError() throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "moonlab-ckpt-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: dir)
  }

  func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

  func assertThrows(
    _ body: () throws -> Void, containing parts: [String], file: StaticString = #filePath,
    line: UInt = #line
  ) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
      let message = "\(error)"
      for part in parts {
        XCTAssertTrue(
          message.contains(part), "'\(message)' should mention '\(part)'", file: file, line: line)
      }
    }
  }

  func testSaveLoadIsBitExact() throws {
    let a = handBuiltSequential()
    randomize(a, seed: 1)
    let weight = a.namedParameters()[0].tensor
    weight.data[0] = .nan
    weight.data[1] = -0.0
    weight.data[2] = .infinity
    weight.data[3] = Float(bitPattern: 1)  // smallest subnormal
    try Checkpoint.save(a, to: path("a.safetensors"))

    let b = handBuiltSequential()
    let storages = Checkpoint.state(of: b).map { $0.tensor.data }
    try Checkpoint.load(into: b, from: path("a.safetensors"))
    let sa = Checkpoint.state(of: a)
    let sb = Checkpoint.state(of: b)
    XCTAssertEqual(sa.map(\.name), sb.map(\.name))
    for (x, y) in zip(sa, sb) {
      let bitsX = x.tensor.toArray().map(\.bitPattern)
      let bitsY = y.tensor.toArray().map(\.bitPattern)
      XCTAssertEqual(bitsX, bitsY, x.name)
    }
    // Loaded into the same storage, so an optimizer's references stay valid.
    XCTAssertEqual(Checkpoint.state(of: b).map { $0.tensor.data }, storages)

    let read = try Checkpoint.read(path: path("a.safetensors"))
    XCTAssertEqual(Set(read.map(\.name)), Set(sa.map(\.name)))
    XCTAssertEqual(read.first { $0.name == "1.num_batches_tracked" }?.tensor.shape, [])
  }

  func testFileLayoutFollowsTheFormat() throws {
    let m = Module()
    m.param("w", try Tensor(shape: [2], values: [1.5, -2]))
    try Checkpoint.save(m, to: path("m.safetensors"))
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path("m.safetensors")))
    let n = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    XCTAssertEqual((8 + n) % 8, 0, "data section is 8-byte aligned")
    let header = try XCTUnwrap(String(data: bytes.subdata(in: 8..<8 + n), encoding: .utf8))
    XCTAssertEqual(
      header.trimmingCharacters(in: .whitespaces),
      #"{"w":{"data_offsets":[0,8],"dtype":"F32","shape":[2]}}"#)
    XCTAssertEqual(bytes.count, 8 + n + 8)
  }

  func testLoadsPyTorchStateDictWithInt64Counter() throws {
    let net = handBuiltSequential()
    try Checkpoint.load(
      into: net, from: OptimFixtures.url("checkpoint/torch_sequential.safetensors").path)
    let expected = try XCTUnwrap(
      OptimFixtures.json("checkpoint/torch_sequential.json") as? [String: [String: Any]])
    let state = Checkpoint.state(of: net)
    XCTAssertEqual(Set(state.map(\.name)), Set(expected.keys))
    for (name, t) in state {
      let e = try XCTUnwrap(expected[name])
      XCTAssertEqual(t.shape, e["shape"] as? [Int], name)
      XCTAssertEqual(t.toArray(), (e["values"] as? [Double])?.map(Float.init), name)
    }
    XCTAssertEqual(
      try net.namedBuffers().first { $0.name == "1.num_batches_tracked" }?.tensor.item(), 3)
  }

  func testMismatchedModulesNameFileAndTensor() throws {
    let saved = handBuiltSequential()
    try Checkpoint.save(saved, to: path("net.safetensors"))
    let file = path("net.safetensors")

    let missing = handBuiltSequential()
    missing.module("5", Module()).param("weight", Tensor(zeros: [2]))
    assertThrows(
      { try Checkpoint.load(into: missing, from: file) },
      containing: [file, "missing", "'5.weight'"])

    let extra = Module()
    extra.module("0", Module()).param("weight", Tensor(zeros: [4, 3, 3, 3]))
    assertThrows(
      { try Checkpoint.load(into: extra, from: file) },
      containing: [file, "unexpected", "'4.bias'"])

    let misShaped = handBuiltSequential()
    misShaped.children[4].module.param("weight", Tensor(zeros: [100, 3]))
    assertThrows(
      { try Checkpoint.load(into: misShaped, from: file) },
      containing: [file, "'4.weight'", "[3,100]", "[100,3]"])
    // Nothing was half-loaded.
    randomize(misShaped, seed: 9)
    let before = misShaped.namedParameters()[0].tensor.toArray()
    XCTAssertThrowsError(try Checkpoint.load(into: misShaped, from: file))
    XCTAssertEqual(misShaped.namedParameters()[0].tensor.toArray(), before)

    assertThrows(
      { try Checkpoint.load(into: saved, from: self.path("absent.safetensors")) },
      containing: ["absent.safetensors"])
  }

  /// A valid file's bytes, and the data offset where its header ends.
  func validFile() throws -> Data {
    let m = Module()
    m.param("a", try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]))
    m.buffer("b", Tensor(zeros: [4]))
    try Checkpoint.save(m, to: path("valid.safetensors"))
    return try Data(contentsOf: URL(fileURLWithPath: path("valid.safetensors")))
  }

  func header(_ json: String, data: Int) -> Data {
    var bytes = Data()
    withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
    bytes.append(Data(json.utf8))
    bytes.append(Data(count: data))
    return bytes
  }

  func testCorruptFilesGiveClearErrors() throws {
    let good = try validFile()
    let cases: [(String, Data, [String])] = [
      ("empty", Data(), ["too short", "truncated"]),
      ("truncated data", good.prefix(good.count - 3), ["truncated"]),
      ("truncated header", good.prefix(20), ["header length", "truncated"]),
      (
        "huge header length",
        Data([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]) + good.dropFirst(8),
        ["header length"]
      ),
      ("not json", header("{not json}", data: 0), ["malformed header"]),
      ("not an object", header("[1, 2]", data: 0), ["not a JSON object"]),
      (
        "bad dtype", header(#"{"x":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, data: 4),
        ["'x'", "F16"]
      ),
      (
        "negative dim",
        header(#"{"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: 8),
        ["'x'", "negative"]
      ),
      (
        "huge shape",
        header(
          #"{"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#, data: 8),
        ["'x'", "too large"]
      ),
      (
        "size mismatch",
        header(#"{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: 8),
        ["'x'", "needs 12 bytes", "span 8"]
      ),
      (
        "offsets past end",
        header(#"{"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: 8),
        ["'x'", "run past"]
      ),
      (
        "reversed offsets",
        header(#"{"x":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, data: 8),
        ["'x'", "invalid data_offsets"]
      ),
      (
        "one offset", header(#"{"x":{"dtype":"F32","shape":[0],"data_offsets":[0]}}"#, data: 0),
        ["'x'", "invalid data_offsets"]
      ),
      (
        "overlap",
        header(
          #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
          data: 12),
        ["'y'", "overlaps", "'x'"]
      ),
      (
        "gap", header(#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: 8),
        ["unused bytes", "'x'"]
      ),
      (
        "trailing bytes",
        header(#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: 8),
        ["4 bytes after"]
      ),
      (
        "missing field", header(#"{"x":{"dtype":"F32","data_offsets":[0,4]}}"#, data: 4),
        ["key 'shape' missing at 'x'"]
      ),
      (
        "wrong type",
        header(#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,"a"]}}"#, data: 4),
        ["at 'x.data_offsets[1]': expected an integer"]
      ),
      (
        "fractional offset",
        header(#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4.5]}}"#, data: 4),
        ["malformed header"]
      ),
      ("bad metadata", header(#"{"__metadata__":{"k":1}}"#, data: 0), ["__metadata__"]),
      (
        "deep nesting", header(#"{"x":"# + String(repeating: "[", count: 100_000), data: 0),
        ["malformed header"]
      ),
    ]
    for (name, bytes, parts) in cases {
      assertThrows(
        { _ = try Safetensors.parse(bytes, path: "bad.safetensors") },
        containing: ["bad.safetensors"] + parts)
      // Messages are for users: no Swift or Foundation internals.
      do { _ = try Safetensors.parse(bytes, path: "bad.safetensors") } catch {
        for word in ["CodingKeys", "Swift.", "NSCocoaErrorDomain", "DecodingError"] {
          XCTAssertFalse("\(error)".contains(word), "\(name): \(error)")
        }
      }
    }
  }

  func testReadsOtherDtypesAndMetadata() throws {
    var bytes = header(
      #"{"__metadata__":{"format":"pt"},"d":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"i":{"dtype":"I64","shape":[],"data_offsets":[16,24]},"j":{"dtype":"I32","shape":[1],"data_offsets":[24,28]},"e":{"dtype":"F32","shape":[0,3],"data_offsets":[28,28]}}"#,
      data: 0)
    for v in [0.25, -3.5] {
      withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }
    withUnsafeBytes(of: Int64(-7).littleEndian) { bytes.append(contentsOf: $0) }
    withUnsafeBytes(of: Int32(42).littleEndian) { bytes.append(contentsOf: $0) }
    let file = try Safetensors.parse(bytes, path: "x")
    XCTAssertEqual(file.metadata, ["format": "pt"])
    XCTAssertEqual(file.tensors.map(\.name), ["d", "i", "j", "e"])
    XCTAssertEqual(file.tensors.map { $0.tensor.toArray() }, [[0.25, -3.5], [-7], [42], []])
    XCTAssertEqual(file.tensors.map(\.tensor.shape), [[2], [], [1], [0, 3]])
  }

  /// Random byte flips, truncations and splices of a valid file: errors, never a crash.
  func testFuzzedFilesNeverCrash() throws {
    let good = try validFile()
    let g = Generator(seed: 42)
    var failures = 0
    for round in 0..<400 {
      var bytes = good
      switch round % 4 {
      case 0:
        bytes = bytes.prefix(g.below(bytes.count))
      case 1:
        for _ in 0..<1 + g.below(4) { bytes[g.below(bytes.count)] = UInt8(g.below(256)) }
      case 2:
        // Corrupt within the header, where the structure lives.
        let n = Int(bytes[0]) + 8
        for _ in 0..<1 + g.below(3) { bytes[g.below(min(n, bytes.count))] = UInt8(g.below(256)) }
      default:
        let cut = g.below(bytes.count)
        bytes =
          bytes.prefix(cut) + Data((0..<g.below(16)).map { _ in UInt8(g.below(256)) })
          + bytes.dropFirst(cut)
      }
      do {
        let file = try Safetensors.parse(bytes, path: "fuzz.safetensors")
        for (_, t) in file.tensors { XCTAssertEqual(t.count, Shape.count(t.shape)) }
      } catch {
        XCTAssertTrue("\(error)".contains("fuzz.safetensors"), "\(error)")
        failures += 1
      }
    }
    XCTAssertGreaterThan(failures, 200)
  }
}

/// The same checks with moonlab's real layers.
final class CheckpointLayerTests: XCTestCase {
  func sequential() throws -> Sequential {
    Sequential([
      try Conv2d(3, 4, kernelSize: 3, padding: 1), try BatchNorm2d(4), ReLU(), Flatten(),
      try Linear(100, 3),
    ])
  }

  func tensor(_ any: Any?) throws -> Tensor {
    let d = try XCTUnwrap(any as? [String: Any])
    return try Tensor(
      shape: try XCTUnwrap(d["shape"] as? [Int]),
      values: try XCTUnwrap(d["values"] as? [Double]).map(Float.init))
  }

  func testPyTorchCheckpointGivesPyTorchsOutput() throws {
    let net = try sequential()
    try Checkpoint.load(
      into: net, from: OptimFixtures.url("checkpoint/torch_sequential.safetensors").path)
    net.eval()
    let io = try XCTUnwrap(
      OptimFixtures.json("checkpoint/torch_sequential_io.json") as? [String: Any])
    let y = try net(try tensor(io["input"]))
    let expected = try tensor(io["output"])
    XCTAssertEqual(y.shape, expected.shape)
    // Relative to the outputs' scale (~0.1): one output, 0.003, is a near-cancelled sum
    // whose last bits follow the GEMM's summation order.
    for (a, b) in zip(y.toArray(), expected.toArray()) {
      XCTAssertTrue(
        relativeClose(Double(a), Double(b), tol: 1e-5, floor: 0.1), "\(a) vs PyTorch \(b)")
    }

    // Saved by moonlab and loaded into a fresh network: the same output, bit for bit.
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(
      "moonlab-\(UUID().uuidString).safetensors"
    ).path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try Checkpoint.save(net, to: path)
    let copy = try sequential()
    try Checkpoint.load(into: copy, from: path)
    copy.eval()
    XCTAssertEqual(try copy(try tensor(io["input"])).toArray(), y.toArray())
  }
}
