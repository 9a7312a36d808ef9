import Foundation
import MoonlabTensor

/// A trial's id and seed, derived from its identity text (docs/lab.md, "Sweeps"). SHA-256
/// spreads every change over every digit, so neighbouring configurations get unrelated
/// ids instead of ones differing in a digit or two.
enum TrialIdentity {
  /// 10 hex digits (40 bits) of SHA-256: short enough for folder names and tables.
  static func id(_ identity: String) -> String {
    String(SHA256.hex(Data(identity.utf8)).prefix(10))
  }

  /// 53 bits of SHA-256, so the seed is exact as a JSON number.
  static func seed(_ text: String) -> UInt64 {
    (UInt64(SHA256.hex(Data(text.utf8)).prefix(16), radix: 16) ?? 0) & ((1 << 53) - 1)
  }

  /// The FNV-1a id of sweeps made before ids used SHA-256. Only for recognising their
  /// trial folders, which are resumed rather than run again.
  static func legacyID(_ identity: String) -> String {
    String(format: "%010llx", Generator.fnv1a(identity) >> 24)
  }

  /// The seed such a trial ran with.
  static func legacySeed(_ text: String) -> UInt64 {
    Generator.fnv1a(text) & ((1 << 53) - 1)
  }
}
