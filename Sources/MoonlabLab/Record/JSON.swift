import Foundation

/// A JSON value whose objects keep their key order and whose numbers print as the
/// shortest text that reads back to the same Double, so a metrics line written, read and
/// written again is byte-identical (what `moonlab rerun` compares).
public indirect enum JSON: Equatable {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([JSON])
  case object([Field])

  public struct Field: Equatable {
    public var key: String
    public var value: JSON
    public init(_ key: String, _ value: JSON) {
      self.key = key
      self.value = value
    }
  }

  public subscript(key: String) -> JSON? {
    guard case .object(let fields) = self else { return nil }
    return fields.first { $0.key == key }?.value
  }

  public var double: Double? { if case .number(let d) = self { return d } else { return nil } }
  public var text: String? { if case .string(let s) = self { return s } else { return nil } }
  public var items: [JSON]? { if case .array(let a) = self { return a } else { return nil } }
  public var fields: [Field]? { if case .object(let f) = self { return f } else { return nil } }

  // MARK: Writing

  /// Compact one-line form (metrics.jsonl), or indented (config.json).
  public func serialized(pretty: Bool = false) -> String {
    var out = ""
    write(to: &out, indent: pretty ? "" : nil)
    return out
  }

  private func write(to out: inout String, indent: String?) {
    switch self {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .number(let d): out += d.isFinite ? JSON.format(d) : "null"  // strict JSON has no NaN
    case .string(let s): JSON.quote(s, into: &out)
    case .array(let a):
      writeList(a.count, "[", "]", &out, indent) { i, out, inner in
        a[i].write(to: &out, indent: inner)
      }
    case .object(let f):
      writeList(f.count, "{", "}", &out, indent) { i, out, inner in
        JSON.quote(f[i].key, into: &out)
        out += inner == nil ? ":" : ": "
        f[i].value.write(to: &out, indent: inner)
      }
    }
  }

  private func writeList(
    _ n: Int, _ open: String, _ close: String, _ out: inout String, _ indent: String?,
    _ element: (Int, inout String, String?) -> Void
  ) {
    out += open
    let inner = indent.map { $0 + "  " }
    for i in 0..<n {
      if i > 0 { out += "," }
      if let inner { out += "\n" + inner }
      element(i, &out, inner)
    }
    if let indent, n > 0 { out += "\n" + indent }
    out += close
  }

  /// Integers print without a fraction; other values in Swift's shortest round-trip form.
  /// NaN and infinities print as Python's json tokens (for tables and messages); files get
  /// `null` for them (`serialized`), and the reader still accepts the tokens of old files.
  public static func format(_ d: Double) -> String {
    if d.isNaN { return "NaN" }
    if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
    if d == d.rounded(), abs(d) < 9.007_199_254_740_992e15 {
      return d == 0 && d.sign == .minus ? "-0.0" : String(Int64(d))
    }
    return "\(d)"
  }

  static func quote(_ s: String, into out: inout String) {
    out += "\""
    // Most keys and values need no escape: appended whole, not scalar by scalar.
    guard s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) else {
      out += s
      out += "\""
      return
    }
    for u in s.unicodeScalars {
      switch u {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if u.value < 0x20 {
          out += String(format: "\\u%04x", u.value)
        } else {
          out.unicodeScalars.append(u)
        }
      }
    }
    out += "\""
  }

  // MARK: Reading

  public static func parse(_ text: String) throws -> JSON {
    var p = Parser(bytes: Array(text.utf8))
    let v = try p.value()
    p.skipSpace()
    guard p.i == p.bytes.count else { throw p.error("trailing characters") }
    return v
  }

  /// The JSON in a file, nil when there is no file; a malformed one is an error naming the
  /// file ("runs/x/config.json: not valid JSON: expected ':' at byte 200").
  public static func read(_ url: URL) throws -> JSON? {
    guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
    do {
      return try parse(String(decoding: data, as: UTF8.self))
    } catch let e as LabError {
      throw LabError(
        "\(url.path): not valid JSON: \(e.message.replacingOccurrences(of: "JSON: ", with: ""))")
    }
  }

  struct Parser {
    let bytes: [UInt8]
    var i = 0

    func error(_ what: String) -> LabError { LabError("JSON: \(what) at byte \(i)") }

    mutating func skipSpace() {
      while i < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[i]) { i += 1 }
    }

    mutating func literal(_ word: String) -> Bool {
      let w = Array(word.utf8)
      guard i + w.count <= bytes.count, Array(bytes[i..<i + w.count]) == w else { return false }
      i += w.count
      return true
    }

    mutating func value() throws -> JSON {
      skipSpace()
      guard i < bytes.count else { throw error("unexpected end") }
      switch bytes[i] {
      case UInt8(ascii: "{"):
        i += 1
        var fields: [Field] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
          i += 1
          return .object(fields)
        }
        while true {
          skipSpace()
          guard case .string(let key) = try value() else {
            throw error("object key must be a string")
          }
          skipSpace()
          guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw error("expected ':'") }
          i += 1
          fields.append(Field(key, try value()))
          if try endOfList("}") { return .object(fields) }
        }
      case UInt8(ascii: "["):
        i += 1
        var items: [JSON] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
          i += 1
          return .array(items)
        }
        while true {
          items.append(try value())
          if try endOfList("]") { return .array(items) }
        }
      case UInt8(ascii: "\""): return .string(try string())
      default:
        if literal("true") { return .bool(true) }
        if literal("false") { return .bool(false) }
        if literal("null") { return .null }
        if literal("NaN") { return .number(.nan) }
        if literal("Infinity") { return .number(.infinity) }
        if literal("-Infinity") { return .number(-.infinity) }
        return .number(try number())
      }
    }

    /// After an element: true at the closing bracket, false after a comma.
    mutating func endOfList(_ close: Character) throws -> Bool {
      skipSpace()
      guard i < bytes.count else { throw error("unexpected end") }
      let c = bytes[i]
      i += 1
      if c == UInt8(ascii: ",") { return false }
      if c == close.asciiValue { return true }
      throw error("expected ',' or '\(close)'")
    }

    mutating func number() throws -> Double {
      let start = i
      while i < bytes.count, "+-0123456789.eE".utf8.contains(bytes[i]) { i += 1 }
      guard let s = String(bytes: bytes[start..<i], encoding: .utf8), let d = Double(s) else {
        throw error("bad number")
      }
      return d
    }

    mutating func string() throws -> String {
      i += 1
      var scalars = String.UnicodeScalarView()
      var raw: [UInt8] = []
      func flush() {
        scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
        raw.removeAll()
      }
      while i < bytes.count {
        let c = bytes[i]
        i += 1
        if c == UInt8(ascii: "\"") {
          flush()
          return String(scalars)
        }
        guard c == UInt8(ascii: "\\") else {
          raw.append(c)
          continue
        }
        flush()
        guard i < bytes.count else { break }
        let e = bytes[i]
        i += 1
        switch e {
        case UInt8(ascii: "n"): scalars.append("\n")
        case UInt8(ascii: "r"): scalars.append("\r")
        case UInt8(ascii: "t"): scalars.append("\t")
        case UInt8(ascii: "b"): scalars.append("\u{8}")
        case UInt8(ascii: "f"): scalars.append("\u{C}")
        case UInt8(ascii: "u"):
          guard i + 4 <= bytes.count, let s = String(bytes: bytes[i..<i + 4], encoding: .utf8),
            let v = UInt32(s, radix: 16)
          else { throw error("bad \\u escape") }
          i += 4
          scalars.append(Unicode.Scalar(v) ?? "\u{FFFD}")
        default: scalars.append(Unicode.Scalar(e))
        }
      }
      throw error("unterminated string")
    }
  }
}

/// A failure in the lab layer (run records, sweeps, reports) with a message for the user.
public struct LabError: Error, CustomStringConvertible {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}
