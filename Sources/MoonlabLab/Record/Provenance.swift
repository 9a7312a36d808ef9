import CBLAS
import Foundation
import MoonlabLua
import MoonlabTensor

/// The machine and build a run ran on, for config.json (docs/lab.md, "Provenance"): what
/// decides whether a rerun elsewhere can be bit-identical. Kernels compiled for another
/// vector unit, another OpenBLAS core or version, or another CPU can round differently.
enum Provenance {
  /// {"version", "configuration": "release" | "debug", "kernels": "avx512" | "avx2-fma" |
  /// "portable"} (docs/architecture.md, "Build targets").
  static var build: JSON {
    #if DEBUG
      let configuration = "debug"
    #else
      let configuration = "release"
    #endif
    return .object([
      .init("version", .string(MoonlabVersion.string)),
      .init("configuration", .string(configuration)),
      .init("kernels", .string(KernelBuild.name)),
    ])
  }

  /// {"version", "core", "config", "max_threads"} from openblas_get_config() and
  /// openblas_get_corename() ("OpenBLAS 0.3.21 … DYNAMIC_ARCH … MAX_THREADS=64", "Haswell").
  static var openBLAS: JSON {
    let config = openblas_get_config().map { String(cString: $0) } ?? ""
    let core = openblas_get_corename().map { String(cString: $0) } ?? ""
    let words = config.split(separator: " ").map(String.init)
    var fields: [JSON.Field] = []
    if words.first == "OpenBLAS", words.count > 1 {
      fields.append(.init("version", .string(words[1])))
    }
    fields.append(.init("core", .string(core)))
    fields.append(.init("config", .string(config)))
    if let max = words.first(where: { $0.hasPrefix("MAX_THREADS=") }).flatMap({
      Int($0.dropFirst("MAX_THREADS=".count))
    }) {
      fields.append(.init("max_threads", .number(Double(max))))
    }
    return .object(fields)
  }

  /// {"model", "flags" (space-separated), "logical_cores"} from /proc/cpuinfo (Linux), nil elsewhere.
  static var cpu: JSON? {
    // The first processor's block (up to the first blank line) has every field read here,
    // and is all that is read and parsed: the file grows with the core count, and this
    // runs at every start (Foundation's file reading and trimming were ~4 % of an empty
    // run).
    guard let text = firstBlock(of: "/proc/cpuinfo") else { return nil }
    var fields: [String: String] = [:]
    for line in text.split(separator: "\n") {
      guard let colon = line.firstIndex(of: ":") else { continue }
      fields[trimmed(line[..<colon])] = trimmed(line[line.index(after: colon)...])
    }
    func field(_ name: String) -> String? { fields[name] }
    // ARM kernels say "Features" and may have no model name.
    let model = field("model name") ?? field("CPU part") ?? "unknown"
    // One string as /proc/cpuinfo has it: a list of ~100 words would fill config.json.
    let flags = field("flags") ?? field("Features") ?? ""
    return .object([
      .init("model", .string(model)), .init("flags", .string(flags)),
      .init("logical_cores", .number(Double(RunContext.processorCount))),
    ])
  }

  /// The file at `path` up to its first blank line (all of it if it has none).
  static func firstBlock(of path: String) -> Substring? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while bytes.count < 1 << 20 {
      let n = read(fd, &chunk, chunk.count)
      guard n > 0 else { break }
      bytes += chunk[..<n]
      if let end = bytes.indices.dropLast().first(where: { bytes[$0] == 10 && bytes[$0 + 1] == 10 })
      {
        return Substring(String(decoding: bytes[..<end], as: UTF8.self))
      }
    }
    return Substring(String(decoding: bytes, as: UTF8.self))
  }

  /// `text` without leading and trailing spaces and tabs.
  static func trimmed(_ text: Substring) -> String {
    let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
    guard let first = text.firstIndex(where: { !blank($0) }),
      let last = text.lastIndex(where: { !blank($0) })
    else { return "" }
    return String(text[first...last])
  }

  /// The machine fields of config.json, in their order there.
  static var machine: [JSON.Field] {
    [.init("build", build), .init("openblas", openBLAS)] + (cpu.map { [.init("cpu", $0)] } ?? [])
  }
}
