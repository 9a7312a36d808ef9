import Foundation
import MoonlabLua
import TestSupport
import XCTest

/// The Lua bridge's safety rules (docs/architecture.md, "The Lua bridge"): errors become Lua errors at the caller's
/// line, no longjmp crosses Swift frames, nothing leaks.
final class BridgeTests: XCTestCase {
  func testSwiftErrorPointsAtCallingLuaLine() throws {
    let host = try LuaHost()
    host.registerLibrary("probe", ["fail": { _ in throw LuaError("probe.fail: broken on purpose") }])
    XCTAssertThrowsError(try host.run("local x = 1\n\nprobe.fail()", chunkname: "@caller.lua")) { error in
      let message = String(describing: error)
      XCTAssertTrue(message.hasPrefix("caller.lua:3: probe.fail: broken on purpose"), message)
      XCTAssertTrue(message.contains("stack traceback"), message)
    }
  }

  func testBadArgumentMessageNamesFunctionAndType() throws {
    let host = try LuaHost()
    XCTAssertThrowsError(try host.run("tensor.zeros('x')", chunkname: "@args.lua")) { error in
      XCTAssertTrue(
        String(describing: error).hasPrefix("args.lua:1: bad argument #1 to 'zeros' (number expected, got string)"),
        String(describing: error))
    }
  }

  func testSyntaxErrorNamesFileAndLine() throws {
    let dir = try TestPaths.temporaryDirectory()
    let script = dir.appendingPathComponent("broken.lua")
    try "local a = 1\nlocal b = (\n".write(to: script, atomically: true, encoding: .utf8)
    let host = try LuaHost()
    XCTAssertThrowsError(try host.runScript(path: script.path)) { error in
      XCTAssertTrue(String(describing: error).contains("broken.lua:3:"), String(describing: error))
    }
  }

  func testPcallCatchesSwiftErrorsAndStateStaysUsable() throws {
    let host = try LuaHost()
    let out = try host.run(
      "local ok, e = pcall(tensor.zeros, {-1}); return ok, e, tensor.zeros{2}:shape()[1]", chunkname: "@p.lua")
    XCTAssertEqual(out[0], "false")
    XCTAssertTrue(out[1].contains("negative size"), out[1])
    XCTAssertEqual(out[2], "2")
  }

  /// 100,000 Swift-bound calls that raise must not leak: each error unwinds only C and Lua
  /// frames, so Swift releases everything it held.
  func testRaisingCallsDoNotLeak() throws {
    let host = try LuaHost()
    host.registerLibrary(
      "probe",
      [
        "fail": { lua in
          let t = try lua.tensor(1, "fail")  // a retained Swift object on this frame
          throw LuaError("probe.fail: \(t.count) elements")
        }
      ])
    let loop = """
      local t = tensor.zeros{16}
      for i = 1, %d do
        local ok = pcall(probe.fail, t)
        assert(not ok)
        local ok2 = pcall(tensor.from, {{1, 2}, {3}})
        assert(not ok2)
      end
      collectgarbage()
      """
    try host.run(String(format: loop, 10_000))
    let before = residentBytes()
    try host.run(String(format: loop, 50_000))
    let after = residentBytes()
    XCTAssertLessThan(after - before, 5 << 20, "RSS grew by \(after - before) bytes over 100,000 raising calls")
  }

  /// Dead tensors are collected even though Lua sees only their small userdata: 1.6 GB of
  /// garbage tensors must not stay resident (the collector is told about Swift memory).
  func testCollectorRunsForTensorMemory() throws {
    let host = try LuaHost()
    try host.run("collectgarbage()")
    let before = residentBytes()
    try host.run("for i = 1, 100 do local t = tensor.zeros{4, 1024, 1024} end")
    let grown = residentBytes() - before
    XCTAssertLessThan(grown, 800 << 20, "RSS grew by \(grown >> 20) MB for 1.6 GB of dead tensors")
  }

  /// No Swift file may call a Lua API function that raises (docs/architecture.md, "The Lua bridge").
  func testNoSwiftSourceCallsRaisingLuaFunctions() throws {
    let sources = TestPaths.repository.appendingPathComponent("Sources")
    let pattern = try NSRegularExpression(
      pattern: #"\b(lua_error|luaL_error|luaL_check[a-z]*|luaL_arg[a-z]*|luaL_opt[a-z]*|luaL_typeerror)\s*\("#)
    var offenders: [String] = []
    let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)
    while let url = files?.nextObject() as? URL {
      guard url.pathExtension == "swift", let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
      if pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil {
        offenders.append(url.lastPathComponent)
      }
    }
    XCTAssertEqual(offenders, [])
  }

  private func residentBytes() -> Int {
    guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = statm.split(separator: " ")
    return (fields.count > 1 ? Int(fields[1]) ?? 0 : 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
  }
}
