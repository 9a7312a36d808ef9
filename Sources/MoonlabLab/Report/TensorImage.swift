import MoonlabNN
import MoonlabTensor

/// Tensors as pictures for the report: each image (or filter) is stretched to 0…255 by
/// its own min and max, enlarged so it is at least ~`minSide` pixels, and a batch is laid
/// out as a near-square grid with gaps.
enum TensorImage {
  /// HW → gray, CHW with C = 1 or 3 → gray or RGB, NCHW → a grid of N such images.
  static func raster(_ t: Tensor, minSide: Int = 96) throws -> Raster {
    let s = t.shape
    switch s.count {
    case 2: return enlarge(tile(t.data, channels: 1, height: s[0], width: s[1], offset: 0), minSide)
    case 3:
      try checkChannels(s[0], s)
      return enlarge(tile(t.data, channels: s[0], height: s[1], width: s[2], offset: 0), minSide)
    case 4:
      try checkChannels(s[1], s)
      let per = s[1] * s[2] * s[3]
      let tiles = (0..<s[0]).map {
        tile(t.data, channels: s[1], height: s[2], width: s[3], offset: $0 * per)
      }
      return grid(tiles, minTile: 32)
    default:
      throw LabError("report.image: expected an HW, CHW or NCHW tensor, got shape \(s)")
    }
  }

  /// First-layer filters [out, in, k, k]: RGB tiles when in = 3, gray when in = 1, else
  /// the mean over input channels in gray. Each filter is normalised on its own.
  static func filters(_ w: Tensor) throws -> Raster {
    let s = w.shape
    guard s.count == 4 else {
      throw LabError("report.filters: expected a conv weight [out,in,k,k], got shape \(s)")
    }
    let per = s[1] * s[2] * s[3]
    let tiles: [Raster] = (0..<s[0]).map { o in
      if s[1] == 1 || s[1] == 3 {
        return tile(w.data, channels: s[1], height: s[2], width: s[3], offset: o * per)
      }
      let plane = s[2] * s[3]
      let mean = Tensor(zeros: [plane])
      for c in 0..<s[1] {
        for p in 0..<plane { mean.data[p] += w.data[o * per + c * plane + p] / Float(s[1]) }
      }
      return tile(mean.data, channels: 1, height: s[2], width: s[3], offset: 0)
    }
    return grid(tiles, minTile: 56)
  }

  private static func checkChannels(_ c: Int, _ shape: [Int]) throws {
    guard c == 1 || c == 3 else {
      throw LabError("report.image: expected 1 or 3 channels (CHW), got shape \(shape)")
    }
  }

  /// One CHW image at `offset`, min-max normalised, channels interleaved.
  private static func tile(
    _ p: UnsafeMutablePointer<Float>, channels: Int, height: Int, width: Int, offset: Int
  ) -> Raster {
    let plane = height * width
    let values = UnsafeBufferPointer(start: p + offset, count: channels * plane)
    let finite = values.filter(\.isFinite)
    let lo = finite.min() ?? 0
    let hi = finite.max() ?? 0
    let scale: Float = hi > lo ? 255 / (hi - lo) : 0
    var r = Raster(width: width, height: height, channels: channels)
    for c in 0..<channels {
      for i in 0..<plane {
        let v = values[c * plane + i]
        r.pixels[i * channels + c] =
          v.isFinite ? UInt8(((v - lo) * scale).rounded().clamped(0, 255)) : 0
      }
    }
    return r
  }

  private static func enlarge(_ r: Raster, _ minSide: Int) -> Raster {
    r.scaled(by: max(1, minSide / max(1, max(r.width, r.height))))
  }

  /// Tiles (same size) in a near-square grid on a light background, 2-pixel gaps.
  private static func grid(_ tiles: [Raster], minTile: Int) -> Raster {
    guard let first = tiles.first else {
      return Raster(width: 1, height: 1, channels: 1, fill: 255)
    }
    let scaledTiles = tiles.map { enlarge($0, minTile) }
    let tw = scaledTiles[0].width
    let th = scaledTiles[0].height
    let ch = first.channels
    let cols = Int(Double(tiles.count).squareRoot().rounded(.up))
    let rows = (tiles.count + cols - 1) / cols
    let gap = 2
    var out = Raster(
      width: cols * (tw + gap) + gap, height: rows * (th + gap) + gap, channels: ch, fill: 235)
    for (k, t) in scaledTiles.enumerated() {
      let ox = gap + (k % cols) * (tw + gap)
      let oy = gap + (k / cols) * (th + gap)
      for y in 0..<th {
        let src = y * tw * ch
        let dst = ((oy + y) * out.width + ox) * ch
        out.pixels.replaceSubrange(dst..<dst + tw * ch, with: t.pixels[src..<src + tw * ch])
      }
    }
    return out
  }

  /// The first conv layer's weight: the module's own "weight" if it is 4-D, else the
  /// first 4-D parameter named "….weight" in registration order (a whole network).
  static func firstConvWeight(_ m: Module) throws -> Tensor {
    let params = m.namedParameters()
    if let w = params.first(where: {
      ($0.name == "weight" || $0.name.hasSuffix(".weight")) && $0.tensor.rank == 4
    }) {
      return w.tensor
    }
    throw LabError(
      "report.filters: \(m.typeName) has no 4-D 'weight' parameter (expected a Conv2d or a network starting with one)"
    )
  }
}

extension Float {
  fileprivate func clamped(_ lo: Float, _ hi: Float) -> Float { Swift.min(Swift.max(self, lo), hi) }
}
