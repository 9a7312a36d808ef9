import MoonlabLab
import MoonlabLua

/// Cost of one Lua→Swift call through the C trampoline (target: under 0.2 µs).
enum LuaCallBench {
  static func run() throws {
    let host = try LuaHost()
    host.registerLibrary("bench", ["noop": { _ in 0 }])
    let n = 2_000_000
    try host.run(
      "N = \(n); local f = bench.noop; function call_loop() for i = 1, N do f(i) end end")
    try host.run("function empty_loop() local g = function() end for i = 1, N do g(i) end end")
    let call = try Timing.median { try host.run("call_loop()") }
    let empty = try Timing.median { try host.run("empty_loop()") }
    Timing.report(
      "lua_call", call / Double(n) * 1e9, "ns/call",
      String(format: "Lua→Lua call %.1f ns", empty / Double(n) * 1e9))
  }
}
