import Foundation
import MoonlabTensor

/// The safetensors file format (https://github.com/huggingface/safetensors):
///
///     [8 bytes: header length N, little-endian u64]
///     [N bytes: JSON {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
///                     …, "__metadata__": {"key": "value"}}]
///     [data: each tensor's bytes at begin..<end, counted from the end of the header]
///
/// We write F32 only (our tensors are float32). We read F32, and F64, I64 and I32 —
/// PyTorch writes BatchNorm's `num_batches_tracked` as I64 — converting to Float.
/// The reader trusts nothing in the file: every length, offset and shape is checked
/// before a byte of tensor data is touched, and every error names the file and tensor.
public enum Safetensors {
  /// The largest header we accept (the reference implementation's limit too).
  static let maxHeaderBytes = 100_000_000

  public struct File {
    /// Tensors in file order (by data offset).
    public var tensors: [(name: String, tensor: Tensor)]
    public var metadata: [String: String]
  }

  // MARK: Writing

  /// Writes `tensors` as F32 in the given order, atomically (temp file, fsync, rename).
  public static func write(
    _ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to path: String
  ) throws {
    try AtomicFile.write(
      try encode(tensors, metadata: metadata, path: path), to: URL(fileURLWithPath: path))
  }

  /// The file's bytes (for a caller that also hashes them); `path` only names it in errors.
  public static func encode(
    _ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], path: String
  ) throws -> Data {
    var header: [String: Any] = [:]
    var offset = 0
    for (name, t) in tensors {
      guard header[name] == nil, name != "__metadata__" else {
        throw TensorError("safetensors: \(path): tensor name '\(name)' is used twice or reserved")
      }
      let bytes = t.count * MemoryLayout<Float>.size
      header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + bytes]]
      offset += bytes
    }
    if !metadata.isEmpty { header["__metadata__"] = metadata }
    var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
    json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))

    var file = Data(capacity: 8 + json.count + offset)
    withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
    file.append(json)
    for (_, t) in tensors {
      // Float32 in memory is already little-endian on every platform we build for.
      file.append(UnsafeBufferPointer(start: t.data, count: t.count))
    }
    return file
  }

  // MARK: Reading

  public static func read(path: String) throws -> File {
    let bytes: Data
    do {
      // Read, not mapped: a mapped file truncated by someone else would crash us (SIGBUS).
      bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      throw TensorError("safetensors: can't read \(path): \(error.localizedDescription)")
    }
    return try parse(bytes, path: path)
  }

  /// Parses a whole file's bytes; `path` only names the file in errors.
  public static func parse(_ bytes: Data, path: String) throws -> File {
    func fail(_ why: String) -> TensorError { TensorError("safetensors: \(path): \(why)") }

    guard bytes.count >= 8 else {
      throw fail(
        "file is \(bytes.count) bytes, too short for the 8-byte header length (truncated?)")
    }
    let headerLength = bytes.withUnsafeBytes {
      UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))
    }
    guard headerLength <= UInt64(bytes.count - 8) else {
      throw fail(
        "header length \(headerLength) runs past the end of the \(bytes.count)-byte file (truncated?)"
      )
    }
    guard headerLength <= UInt64(maxHeaderBytes) else {
      throw fail("header length \(headerLength) exceeds the \(maxHeaderBytes)-byte limit")
    }
    let dataStart = 8 + Int(headerLength)
    let headerBytes = bytes.subdata(in: bytes.startIndex + 8..<bytes.startIndex + dataStart)
    guard headerBytes.first == UInt8(ascii: "{") else { throw fail("header is not a JSON object") }

    let header: Header
    do {
      header = try JSONDecoder().decode(Header.self, from: headerBytes)
    } catch {
      throw fail("malformed header (\(describe(error)))")
    }

    let dataLength = bytes.count - dataStart
    let entries = try header.entries.sorted {
      ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name)
    }.map { e in
      try e.validated(dataLength: dataLength, fail)
    }
    // The spans must tile the data section exactly: no overlap, no gap, nothing after.
    var expectedBegin = 0
    for (k, e) in entries.enumerated() {
      if e.begin < expectedBegin {
        throw fail(
          "tensor '\(e.name)' (bytes \(e.begin)..<\(e.end)) overlaps tensor '\(entries[k - 1].name)'"
        )
      }
      if e.begin > expectedBegin {
        throw fail("\(e.begin - expectedBegin) unused bytes before tensor '\(e.name)'")
      }
      expectedBegin = e.end
    }
    if expectedBegin != dataLength {
      throw fail(
        "\(dataLength - expectedBegin) bytes after the last tensor's data (corrupt header?)")
    }

    let tensors = bytes.withUnsafeBytes { raw in
      entries.map { e in (name: e.name, tensor: e.decode(raw, from: dataStart)) }
    }
    return File(tensors: tensors, metadata: header.metadata)
  }

  /// Decoding errors in words: where in the header and what is wrong, without Swift's
  /// type names (`CodingKeys(stringValue: …)`).
  private static func describe(_ error: Error) -> String {
    func place(_ c: DecodingError.Context) -> String {
      let path = c.codingPath.reduce("") { path, key in
        key.intValue.map { path + "[\($0)]" } ?? (path.isEmpty ? "" : path + ".") + key.stringValue
      }
      return path.isEmpty ? "" : " at '\(path)'"
    }
    switch error {
    case DecodingError.keyNotFound(let key, let c):
      return "key '\(key.stringValue)' missing\(place(c))"
    case DecodingError.typeMismatch(let type, let c):
      return "\(place(c).dropFirst()): expected \(describe(type))"
    case DecodingError.valueNotFound(let type, let c):
      return "\(place(c).dropFirst()): expected \(describe(type)), got null"
    case DecodingError.dataCorrupted(let c):
      return "not valid JSON\(place(c))"
    default:
      return "not valid JSON"
    }
  }

  private static func describe(_ type: Any.Type) -> String {
    switch type {
    case is String.Type: return "a string"
    case is Int.Type, is UInt64.Type, is Int64.Type: return "an integer"
    case is [Int].Type: return "a list of integers"
    default: return type is any Collection.Type ? "a list" : "an object"
    }
  }
}

/// Element types we read, with their byte sizes.
enum SafetensorsDType: String {
  case f32 = "F32"
  case f64 = "F64"
  case i64 = "I64"
  case i32 = "I32"

  var size: Int {
    switch self {
    case .f32, .i32: return 4
    case .f64, .i64: return 8
    }
  }
}

/// The decoded JSON header: tensor entries plus optional string metadata.
private struct Header: Decodable {
  var entries: [Entry] = []
  var metadata: [String: String] = [:]

  struct Key: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  struct RawEntry: Decodable {
    let dtype: String
    let shape: [Int]
    let data_offsets: [Int]
  }

  init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: Key.self)
    for key in c.allKeys {
      if key.stringValue == "__metadata__" {
        metadata = try c.decode([String: String].self, forKey: key)
        continue
      }
      let raw = try c.decode(RawEntry.self, forKey: key)
      entries.append(Entry(name: key.stringValue, raw: raw))
    }
  }
}

/// One tensor's header entry; checked against the file before any data is read.
private struct Entry {
  let name: String
  let dtypeName: String
  let shape: [Int]
  let offsets: [Int]
  var dtype: SafetensorsDType = .f32
  var begin: Int { offsets.first ?? 0 }
  var end: Int { offsets.count > 1 ? offsets[1] : 0 }

  init(name: String, raw: Header.RawEntry) {
    self.name = name
    self.dtypeName = raw.dtype
    self.shape = raw.shape
    self.offsets = raw.data_offsets
  }

  func validated(dataLength: Int, _ fail: (String) -> TensorError) throws -> Entry {
    var e = self
    guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
      throw fail(
        "tensor '\(name)' has dtype \(dtypeName); only F32, F64, I64 and I32 are supported")
    }
    e.dtype = dtype
    guard offsets.count == 2, begin >= 0, begin <= end else {
      throw fail("tensor '\(name)' has invalid data_offsets \(offsets)")
    }
    guard end <= dataLength else {
      throw fail(
        "tensor '\(name)' data_offsets \(offsets) run past the \(dataLength)-byte data section (truncated?)"
      )
    }
    do {
      try Shape.validate(shape, op: "tensor '\(name)'")
    } catch let err as TensorError {
      throw fail(err.message)
    }
    let needed = Shape.count(shape) * dtype.size
    guard needed == end - begin else {
      throw fail(
        "tensor '\(name)' of shape \(describeShape(shape)) and dtype \(dtypeName) needs \(needed) bytes, but data_offsets \(offsets) span \(end - begin)"
      )
    }
    return e
  }

  /// Converts the checked byte span (`begin` counted from `dataStart`) to a Float tensor.
  func decode(_ file: UnsafeRawBufferPointer, from dataStart: Int) -> Tensor {
    let out = Tensor(zeros: shape)
    guard let base = file.baseAddress, out.count > 0 else { return out }
    let src = base + dataStart + begin
    let dst = out.data
    let n = out.count
    switch dtype {
    case .f32:
      UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: n * 4)
    case .f64:
      for i in 0..<n { dst[i] = Float(src.loadUnaligned(fromByteOffset: i * 8, as: Double.self)) }
    case .i64:
      for i in 0..<n { dst[i] = Float(src.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)) }
    case .i32:
      for i in 0..<n { dst[i] = Float(src.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)) }
    }
    return out
  }
}
