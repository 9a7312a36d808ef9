import Foundation

/// Draws a `Plot` as a self-contained SVG line chart: frame, grid, tick labels on "nice"
/// values (1, 2, 5 × 10^k; powers of ten on log axes), axis labels and a legend.
/// Non-finite points (and non-positive ones on a log axis) break the line.
enum SVGChart {
  static let palette = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
  ]
  /// The plot area is fixed; the legend column on the right grows with the longest name.
  static let plotWidth = 440.0, height = 360.0
  static let left = 64.0, top = 34.0, bottom = 48.0

  /// An axis maps data values to pixels, in log10 space when `log`.
  struct Axis {
    var lo: Double, hi: Double, log: Bool
    var ticks: [Double]

    init(values: [Double], log: Bool) {
      self.log = log
      let v = values.filter { $0.isFinite && (!log || $0 > 0) }.map {
        log ? Foundation.log10($0) : $0
      }
      var lo = v.min() ?? 0
      var hi = v.max() ?? 1
      if lo == hi {
        lo -= log ? 0.5 : (lo == 0 ? 0.5 : abs(lo) * 0.1)
        hi += log ? 0.5 : (hi == 0 ? 0.5 : abs(hi) * 0.1)
      }
      if log {
        lo = floor(lo * 1e9) / 1e9
        ticks = Axis.logTicks(lo, hi)
      } else {
        // Whole-number data (epochs, steps) gets whole-number ticks.
        let whole = v.allSatisfy { $0 == $0.rounded() }
        let step = whole ? max(1, Axis.niceStep((hi - lo) / 5)) : Axis.niceStep((hi - lo) / 5)
        lo = floor(lo / step) * step
        hi = ceil(hi / step) * step
        ticks = stride(from: lo, through: hi + step * 1e-9, by: step).map {
          abs($0) < step * 1e-9 ? 0 : $0
        }
      }
      self.lo = lo
      self.hi = hi
    }

    static func niceStep(_ raw: Double) -> Double {
      let p = pow(10, floor(log10(raw)))
      let f = raw / p
      return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p
    }

    /// Powers of ten inside [lo, hi] (log10 units); with less than two decades also 2× and 5×.
    static func logTicks(_ lo: Double, _ hi: Double) -> [Double] {
      let mantissas: [Double] = hi - lo < 2 ? [1, 2, 5] : [1]
      var out: [Double] = []
      for e in Int(floor(lo))...Int(ceil(hi)) {
        for m in mantissas {
          let t = log10(m) + Double(e)
          if t >= lo - 1e-9, t <= hi + 1e-9 { out.append(t) }
        }
      }
      return out
    }

    func position(_ v: Double, from a: Double, to b: Double) -> Double? {
      guard v.isFinite, !log || v > 0 else { return nil }
      let t = log ? log10(v) : v
      return a + (t - lo) / (hi - lo) * (b - a)
    }

    func label(_ tick: Double) -> String { SVGChart.number(log ? pow(10, tick) : tick) }
  }

  static func number(_ v: Double) -> String {
    if v != 0, abs(v) < 1e-3 || abs(v) >= 1e5 { return String(format: "%.0e", v) }
    return String(format: "%g", (v * 1e6).rounded() / 1e6)
  }

  static func render(_ plot: Plot) -> String {
    let x0 = left
    let longest = plot.series.map(\.name.count).max() ?? 0
    let right = min(420, 52 + 6.5 * Double(longest))
    let width = left + plotWidth + right
    // The plot area is fixed; the picture grows downwards when the legend is longer.
    let total = max(height, top + Double(plot.series.count) * 18 + 14)
    let x1 = left + plotWidth
    let y0 = height - bottom
    let y1 = top
    let xAxis = Axis(values: plot.series.flatMap(\.x), log: plot.logx)
    let yAxis = Axis(values: plot.series.flatMap(\.y), log: plot.logy)
    var s = """
      <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(Int(width)) \(Int(total))" width="\(Int(width))" \
      height="\(Int(total))" font-family="sans-serif" font-size="11">
      <rect x="0" y="0" width="\(Int(width))" height="\(Int(total))" fill="white"/>

      """
    if !plot.title.isEmpty {
      s += text(
        x: (x0 + x1) / 2, y: 20, plot.title, anchor: "middle",
        extra: #" font-size="14" font-weight="bold""#)
    }
    for t in xAxis.ticks {
      guard let px = xAxis.position(xAxis.log ? pow(10, t) : t, from: x0, to: x1) else { continue }
      s += line(px, y0, px, y1, "#e5e5e5")
      s += line(px, y0, px, y0 + 4, "#333")
      s += text(x: px, y: y0 + 16, xAxis.label(t), anchor: "middle")
    }
    for t in yAxis.ticks {
      guard let py = yAxis.position(yAxis.log ? pow(10, t) : t, from: y0, to: y1) else { continue }
      s += line(x0, py, x1, py, "#e5e5e5")
      s += line(x0 - 4, py, x0, py, "#333")
      s += text(x: x0 - 7, y: py + 4, yAxis.label(t), anchor: "end")
    }
    s +=
      "<rect x=\"\(f(x0))\" y=\"\(f(y1))\" width=\"\(f(x1 - x0))\" height=\"\(f(y0 - y1))\" fill=\"none\" stroke=\"#333\"/>\n"
    if !plot.xlabel.isEmpty {
      s += text(x: (x0 + x1) / 2, y: height - 10, plot.xlabel, anchor: "middle")
    }
    if !plot.ylabel.isEmpty {
      s += text(
        x: 0, y: 0, plot.ylabel, anchor: "middle",
        extra: " transform=\"translate(16,\(f((y0 + y1) / 2))) rotate(-90)\"")
    }
    for (k, series) in plot.series.enumerated() {
      let color = palette[k % palette.count]
      var segments: [[(Double, Double)]] = [[]]
      for (x, y) in zip(series.x, series.y) {
        if let px = xAxis.position(x, from: x0, to: x1),
          let py = yAxis.position(y, from: y0, to: y1)
        {
          segments[segments.count - 1].append((px, py))
        } else if !(segments.last?.isEmpty ?? true) {
          segments.append([])
        }
      }
      for seg in segments where !seg.isEmpty {
        let points = seg.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " ")
        s +=
          "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\" points=\"\(points)\"/>\n"
        if series.x.count <= 40 {
          for (px, py) in seg {
            s += "<circle cx=\"\(f(px))\" cy=\"\(f(py))\" r=\"2.5\" fill=\"\(color)\"/>\n"
          }
        }
      }
      let ly = top + 8 + Double(k) * 18
      s += line(x1 + 12, ly, x1 + 32, ly, color, width: 3)
      s += text(x: x1 + 38, y: ly + 4, series.name, anchor: "start")
    }
    return s + "</svg>"
  }

  private static func f(_ v: Double) -> String { String(format: "%.1f", v) }

  private static func line(
    _ xa: Double, _ ya: Double, _ xb: Double, _ yb: Double, _ color: String, width: Double = 1
  ) -> String {
    "<line x1=\"\(f(xa))\" y1=\"\(f(ya))\" x2=\"\(f(xb))\" y2=\"\(f(yb))\" stroke=\"\(color)\" stroke-width=\"\(width)\"/>\n"
  }

  private static func text(
    x: Double, y: Double, _ content: String, anchor: String, extra: String = ""
  ) -> String {
    "<text x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"\(anchor)\"\(extra)>\(HTML.escape(content))</text>\n"
  }
}
