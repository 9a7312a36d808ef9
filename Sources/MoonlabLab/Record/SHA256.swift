import Foundation

/// SHA-256 (FIPS 180-4) of scripts and data files, for config.json's provenance. Linux
/// has no CryptoKit. Streaming, so a 30 MB CIFAR-10 batch is hashed in 1 MiB reads
/// instead of being copied whole.
struct SHA256 {
  private static let k: [UInt32] = [
    0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4,
    0xab1c_5ed5,
    0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7,
    0xc19b_f174,
    0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc,
    0x76f9_88da,
    0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351,
    0x1429_2967,
    0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e,
    0x9272_2c85,
    0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585,
    0x106a_a070,
    0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f,
    0x682e_6ff3,
    0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7,
    0xc671_78f2,
  ]

  private var h: [UInt32] = [
    0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab,
    0x5be0_cd19,
  ]
  /// Bytes of an unfinished 64-byte block.
  private var pending: [UInt8] = []
  private var length: UInt64 = 0

  static func hex(_ data: Data) -> String {
    var s = SHA256()
    data.withUnsafeBytes { s.update($0) }
    return s.finish()
  }

  /// The file's hash and size, read in 1 MiB pieces.
  static func file(_ url: URL) throws -> (hex: String, bytes: Int) {
    let fd = open(url.path, O_RDONLY)
    guard fd >= 0 else {
      throw LabError("can't read \(url.path): \(String(cString: strerror(errno)))")
    }
    defer { close(fd) }
    var s = SHA256()
    let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
    defer { chunk.deallocate() }
    while true {
      let n = read(fd, chunk.baseAddress, chunk.count)
      if n == 0 { break }
      if n < 0 {
        if errno == EINTR { continue }
        throw LabError("can't read \(url.path): \(String(cString: strerror(errno)))")
      }
      s.update(UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
    }
    return (s.finish(), Int(s.length))
  }

  mutating func update(_ bytes: UnsafeRawBufferPointer) {
    guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
    length += UInt64(bytes.count)
    var offset = 0
    if !pending.isEmpty {
      let take = min(64 - pending.count, bytes.count)
      pending.append(contentsOf: UnsafeRawBufferPointer(start: base, count: take))
      offset = take
      guard pending.count == 64 else { return }
      let block = pending
      pending.removeAll(keepingCapacity: true)
      block.withUnsafeBytes { if let b = $0.baseAddress { compress(b, blocks: 1) } }
    }
    let whole = (bytes.count - offset) / 64
    if whole > 0 { compress(base + offset, blocks: whole) }
    offset += whole * 64
    pending.append(
      contentsOf: UnsafeRawBufferPointer(start: base + offset, count: bytes.count - offset))
  }

  mutating func finish() -> String {
    let bitLength = length &* 8
    var tail: [UInt8] = [0x80]
    while (pending.count + tail.count) % 64 != 56 { tail.append(0) }
    for s in stride(from: 56, through: 0, by: -8) {
      tail.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(s)))
    }
    let saved = length
    tail.withUnsafeBytes { update($0) }
    length = saved
    // Eight hex digits a word, without String(format:), which goes through Foundation's
    // formatter (a sixth of a millisecond at every run's start).
    let digits = Array("0123456789abcdef".utf8)
    var hex = [UInt8]()
    hex.reserveCapacity(64)
    for word in h {
      for shift in stride(from: 28, through: 0, by: -4) {
        hex.append(digits[Int((word >> UInt32(shift)) & 0xf)])
      }
    }
    return String(decoding: hex, as: UTF8.self)
  }

  /// Runs the compression function over `blocks` 64-byte blocks at `p`.
  private mutating func compress(_ p: UnsafeRawPointer, blocks: Int) {
    @inline(__always) func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { x >> n | x << (32 - n) }
    var (a0, b0, c0, d0) = (h[0], h[1], h[2], h[3])
    var (e0, f0, g0, h0) = (h[4], h[5], h[6], h[7])
    SHA256.k.withUnsafeBufferPointer { k in
      withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
        for block in 0..<blocks {
          let bytes = p + block * 64
          for t in 0..<16 {
            w[t] = UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 4 * t, as: UInt32.self))
          }
          for t in 16..<64 {
            let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
            let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
            w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
          }
          var (a, b, c, d, e, f, g, hh) = (a0, b0, c0, d0, e0, f0, g0, h0)
          for t in 0..<64 {
            let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
            let ch = (e & f) ^ (~e & g)
            let t1 = hh &+ s1 &+ ch &+ k[t] &+ w[t]
            let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
            let maj = (a & b) ^ (a & c) ^ (b & c)
            (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ s0 &+ maj)
          }
          (a0, b0, c0, d0) = (a0 &+ a, b0 &+ b, c0 &+ c, d0 &+ d)
          (e0, f0, g0, h0) = (e0 &+ e, f0 &+ f, g0 &+ g, h0 &+ hh)
        }
      }
    }
    h = [a0, b0, c0, d0, e0, f0, g0, h0]
  }
}
