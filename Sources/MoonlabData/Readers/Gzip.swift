import CZlib
import Foundation

/// gzip (RFC 1952) decompression through zlib, for MNIST's .gz files, the bundled sample
/// and fetched .tar.gz archives.
enum Gzip {
  /// gzip files start with these two bytes.
  static func isGzip(_ data: Data) -> Bool {
    data.count >= 2 && data[data.startIndex] == 0x1f && data[data.startIndex + 1] == 0x8b
  }

  /// Inflates a whole gzip stream. `limit` caps the output so a hostile file (a "zip
  /// bomb") can't exhaust memory; `what` names the file in errors.
  static func decompress(_ data: Data, what: String, limit: Int = 1 << 30) throws -> Data {
    guard isGzip(data) else { throw DataError("\(what): not a gzip file (bad magic bytes)") }
    var stream = z_stream()
    // 16 + MAX_WBITS: expect a gzip header and trailer (zlib's inflateInit2 convention).
    guard
      inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        == Z_OK
    else {
      throw DataError("\(what): zlib could not start inflating")
    }
    defer { inflateEnd(&stream) }
    var out = Data()
    let chunk = 1 << 20
    var buffer = [UInt8](repeating: 0, count: chunk)
    var status: Int32 = Z_OK
    try data.withUnsafeBytes { (src: UnsafeRawBufferPointer) in
      stream.next_in = UnsafeMutablePointer(mutating: src.bindMemory(to: Bytef.self).baseAddress)
      stream.avail_in = uInt(src.count)
      repeat {
        let produced: Int = buffer.withUnsafeMutableBufferPointer { dst in
          stream.next_out = dst.baseAddress
          stream.avail_out = uInt(chunk)
          status = inflate(&stream, Z_NO_FLUSH)
          return chunk - Int(stream.avail_out)
        }
        guard status == Z_OK || status == Z_STREAM_END else {
          let reason = status == Z_BUF_ERROR ? "truncated" : "corrupt (zlib error \(status))"
          throw DataError("\(what): gzip data is \(reason)")
        }
        out.append(contentsOf: buffer[0..<produced])
        guard out.count <= limit else {
          throw DataError("\(what): decompresses to more than \(limit) bytes")
        }
        if status == Z_OK && produced == 0 && stream.avail_in == 0 {
          throw DataError("\(what): gzip data is truncated")
        }
      } while status != Z_STREAM_END
      // Bytes after the stream's trailer are damage (a truncated download followed by
      // another, an appended file), not data: gunzip warns, a reader must refuse.
      if stream.avail_in > 0 {
        throw DataError("\(what): \(stream.avail_in) bytes of trailing data after the gzip stream")
      }
    }
    return out
  }

  /// Reads a file, inflating it when it is gzipped (by content, not by name).
  static func readMaybeCompressed(_ url: URL, what: String) throws -> Data {
    let raw: Data
    do {
      raw = try Data(contentsOf: url, options: .mappedIfSafe)
    } catch {
      throw DataError("\(what): can't read \(url.path)")
    }
    return isGzip(raw) ? try decompress(raw, what: what) : raw
  }
}
