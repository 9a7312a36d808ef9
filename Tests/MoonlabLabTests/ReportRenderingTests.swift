import CZlib
import Foundation
import XCTest

@testable import MoonlabLab

final class ReportRenderingTests: XCTestCase {
  func testJSONRoundTripKeepsOrderAndEveryDigit() throws {
    let line = JSON.object([
      .init("epoch", .number(3)), .init("loss", .number(0.1 + 0.2)),
      .init("acc", .number(Double(Float(0.7)))),
      .init("name", .string("a \"quoted\"\nline")), .init("bad", .number(.nan)),
      .init("ok", .bool(true)),
      .init("list", .array([.null, .number(-2.5e-8)])),
    ])
    let text = line.serialized()
    XCTAssertEqual(
      text,
      #"{"epoch":3,"loss":0.30000000000000004,"acc":0.699999988079071,"name":"a \"quoted\"\nline","bad":null,"ok":true,"list":[null,-2.5e-08]}"#,
      "files hold strict JSON: NaN is written as null"
    )
    let back = try JSON.parse(text)
    XCTAssertEqual(back.serialized(), text)
    XCTAssertEqual(back["loss"]?.double?.bitPattern, (0.1 + 0.2).bitPattern)
    XCTAssertEqual(try JSON.parse(line.serialized(pretty: true)).serialized(), text)
    XCTAssertThrowsError(try JSON.parse(#"{"a":1"#))
    XCTAssertTrue(try JSON.parse("NaN").double?.isNaN == true, "old files' NaN tokens still read")
  }

  func testSHA256KnownVectors() {
    XCTAssertEqual(
      SHA256.hex(Data("abc".utf8)),
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    XCTAssertEqual(
      SHA256.hex(Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    // Two blocks (56 bytes pushes the length into a second block).
    XCTAssertEqual(
      SHA256.hex(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
  }

  func testMarkdownSubset() {
    let html = Markdown.html(
      "# Title\nSome *em* and **strong** with `a*b*c` and snake_case_name.\n\n- one\n- two\n\n1. first\n\n```\n<raw>\n```"
    )
    XCTAssertTrue(html.contains("<h3>Title</h3>"), html)
    XCTAssertTrue(
      html.contains(
        "<p>Some <em>em</em> and <strong>strong</strong> with <code>a*b*c</code> and snake_case_name.</p>"
      ), html)
    XCTAssertTrue(html.contains("<ul><li>one</li><li>two</li></ul>"), html)
    XCTAssertTrue(html.contains("<ol><li>first</li></ol>"), html)
    XCTAssertTrue(html.contains("<pre><code>&lt;raw&gt;</code></pre>"), html)
  }

  func testChartHasAxesLegendAndLogTicks() {
    var p = Plot()
    p.title = "loss"
    p.logy = true
    p.series = [
      Plot.Series(name: "train <a>", x: [1, 2, 3], y: [1, 0.1, 0.01]),
      Plot.Series(name: "val", x: [1, 2, 3], y: [2, .nan, 0.02]),
    ]
    let svg = SVGChart.render(p)
    XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
    XCTAssertTrue(svg.contains(">train &lt;a&gt;</text>"), "legend names are escaped")
    for tick in [">0.01</text>", ">0.1</text>", ">1</text>"] {
      XCTAssertTrue(svg.contains(tick), "log tick \(tick)")
    }
    // x is whole numbers: ticks 1, 2, 3 without fractions.
    XCTAssertFalse(svg.contains(">1.5</text>"))
    // The NaN splits "val" into two one-point segments; "train" is one 3-point line.
    XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 3)
  }

  func testPNGDecodesToThePixels() throws {
    var r = Raster(width: 3, height: 2, channels: 3)
    r.pixels = (0..<18).map { UInt8($0 * 14) }
    let png = [UInt8](try r.png())
    XCTAssertEqual(Array(png[0..<8]), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    // Walk the chunks, checking each CRC, and inflate IDAT.
    var i = 8
    var idat: [UInt8] = []
    var types: [String] = []
    while i < png.count {
      let length =
        Int(png[i]) << 24 | Int(png[i + 1]) << 16 | Int(png[i + 2]) << 8 | Int(png[i + 3])
      let body = Array(png[i + 4..<i + 8 + length])
      let crc =
        UInt32(png[i + 8 + length]) << 24 | UInt32(png[i + 9 + length]) << 16 | UInt32(
          png[i + 10 + length]) << 8
        | UInt32(png[i + 11 + length])
      XCTAssertEqual(UInt32(crc32(0, body, uInt(body.count))), crc)
      let type = String(decoding: body[0..<4], as: UTF8.self)
      types.append(type)
      if type == "IDAT" { idat += body[4...] }
      i += 12 + length
    }
    XCTAssertEqual(types, ["IHDR", "IDAT", "IEND"])
    var raw = [UInt8](repeating: 0, count: 2 * (1 + 9))
    var size = uLong(raw.count)
    XCTAssertEqual(uncompress(&raw, &size, idat, uLong(idat.count)), Z_OK)
    XCTAssertEqual(raw, [0] + Array(r.pixels[0..<9]) + [0] + Array(r.pixels[9..<18]))
  }
}
