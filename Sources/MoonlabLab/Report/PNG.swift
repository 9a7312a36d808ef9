import CZlib
import Foundation

/// An 8-bit image, gray (1 channel) or RGB (3), rows top to bottom, channels interleaved.
struct Raster {
  var width: Int
  var height: Int
  var channels: Int
  var pixels: [UInt8]

  init(width: Int, height: Int, channels: Int, fill: UInt8 = 0) {
    self.width = width
    self.height = height
    self.channels = channels
    pixels = [UInt8](repeating: fill, count: width * height * channels)
  }

  /// Nearest-neighbour enlargement, so 5×5 filters and 32×32 images stay crisp in the
  /// report (browsers would blur them).
  func scaled(by s: Int) -> Raster {
    guard s > 1 else { return self }
    var out = Raster(width: width * s, height: height * s, channels: channels)
    for y in 0..<out.height {
      for x in 0..<out.width {
        for c in 0..<channels {
          out.pixels[(y * out.width + x) * channels + c] =
            pixels[((y / s) * width + x / s) * channels + c]
        }
      }
    }
    return out
  }

  /// The PNG file: signature, IHDR, one zlib-compressed IDAT (filter 0 on every row), IEND.
  func png() throws -> Data {
    var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    var header = Data()
    header.appendBigEndian(UInt32(width))
    header.appendBigEndian(UInt32(height))
    header.append(contentsOf: [8, channels == 3 ? 2 : 0, 0, 0, 0])  // depth 8, RGB or gray
    Raster.chunk("IHDR", header, into: &png)

    let rowBytes = width * channels
    var raw = [UInt8](repeating: 0, count: (rowBytes + 1) * height)
    for y in 0..<height {
      raw.replaceSubrange(
        y * (rowBytes + 1) + 1..<(y + 1) * (rowBytes + 1),
        with: pixels[y * rowBytes..<(y + 1) * rowBytes])
    }
    var size = compressBound(uLong(raw.count))
    var packed = [UInt8](repeating: 0, count: Int(size))
    guard compress2(&packed, &size, raw, uLong(raw.count), 9) == Z_OK else {
      throw LabError("PNG: zlib compression failed")
    }
    Raster.chunk("IDAT", Data(packed[0..<Int(size)]), into: &png)
    Raster.chunk("IEND", Data(), into: &png)
    return png
  }

  /// length, type, data, CRC-32 of type + data.
  private static func chunk(_ type: String, _ data: Data, into png: inout Data) {
    png.appendBigEndian(UInt32(data.count))
    let body = Data(type.utf8) + data
    png.append(body)
    let crc = body.withUnsafeBytes {
      crc32(0, $0.bindMemory(to: Bytef.self).baseAddress, uInt($0.count))
    }
    png.appendBigEndian(UInt32(crc))
  }
}

extension Data {
  fileprivate mutating func appendBigEndian(_ v: UInt32) {
    append(contentsOf: [
      UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF),
    ])
  }
}
