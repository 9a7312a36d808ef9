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
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else {
      return nil
    }
    // The first processor's block (up to the first blank line) has every field read here,
    // and is all that is parsed: the file grows with the core count, and this runs at
    // every start.
    var fields: [String: String] = [:]
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.isEmpty { break }
      let parts = line.split(separator: ":", maxSplits: 1)
      if parts.count == 2 {
        fields[parts[0].trimmingCharacters(in: .whitespaces)] = parts[1].trimmingCharacters(
          in: .whitespaces)
      }
    }
    func field(_ name: String) -> String? { fields[name] }
    // ARM kernels say "Features" and may have no model name.
    let model = field("model name") ?? field("CPU part") ?? "unknown"
    // One string as /proc/cpuinfo has it: a list of ~100 words would fill config.json.
    let flags = field("flags") ?? field("Features") ?? ""
    return .object([
      .init("model", .string(model)), .init("flags", .string(flags)),
      .init("logical_cores", .number(Double(ProcessInfo.processInfo.activeProcessorCount))),
    ])
  }

  /// The machine fields of config.json, in their order there.
  static var machine: [JSON.Field] {
    [.init("build", build), .init("openblas", openBLAS)] + (cpu.map { [.init("cpu", $0)] } ?? [])
  }
}
