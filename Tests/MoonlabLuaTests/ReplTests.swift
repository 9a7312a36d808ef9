@testable import MoonlabLua
import XCTest

final class ReplTests: XCTestCase {
  func testExpressionsStatementsAndContinuationLines() throws {
    let host = try LuaHost()
    XCTAssertEqual(Repl.evaluate(host: host, "1 + 2"), .values(["3"]))
    XCTAssertEqual(Repl.evaluate(host: host, "x = 5"), .values([]))
    XCTAssertEqual(Repl.evaluate(host: host, "=x * 2"), .values(["10"]))
    XCTAssertEqual(Repl.evaluate(host: host, "for i = 1, 2 do"), .incomplete)
    XCTAssertEqual(Repl.evaluate(host: host, "for i = 1, 2 do\nx = x + i\nend"), .values([]))
    XCTAssertEqual(Repl.evaluate(host: host, "x"), .values(["8"]))
    guard case .error(let message) = Repl.evaluate(host: host, "error('boom')") else {
      return XCTFail("expected an error")
    }
    XCTAssertTrue(message.hasPrefix("stdin:1: boom"), message)
    XCTAssertEqual(Repl.evaluate(host: host, "x"), .values(["8"]))
  }
}
