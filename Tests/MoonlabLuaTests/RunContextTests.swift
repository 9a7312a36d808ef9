import Foundation
import MoonlabLua
import MoonlabTensor
import TestSupport
import XCTest

/// Two hosts in one process keep their own seed, random streams, grad mode, threads,
/// memory limit and notices (docs/architecture.md, "Run context"), whether their calls
/// interleave or one runs inside the other's.
final class RunContextTests: XCTestCase {
  /// Host `b` reachable from host `a`'s Lua code as `other.run(code)`, returning what `b`'s
  /// chunk returned; and `probe.threads()` in both.
  private func pair(_ a: LuaHost, _ b: LuaHost) {
    a.registerLibrary(
      "other",
      [
        "run": { lua in
          let out = try b.run(try lua.string(1, "other.run"))
          for s in out { lua.push(s) }
          return Int32(out.count)
        }
      ])
    for host in [a, b] {
      host.registerLibrary(
        "probe",
        [
          "threads": { lua in
            lua.push(RunContext.current.threads)
            return 1
          }
        ])
    }
  }

  func testInterleavedHostsKeepTheirOwnRandomStreams() throws {
    let draw =
      "return tostring(tensor.randn{3}:sum():item()) .. ' ' .. tostring(nn.Linear(2, 1).weight:sum():item())"
    func alone(_ seed: UInt64) throws -> [String] {
      let host = try LuaHost(options: .init(seed: seed))
      return try (0..<3).map { _ in try host.run(draw)[0] }
    }
    let (expectA, expectB) = (try alone(1), try alone(2))
    XCTAssertNotEqual(expectA, expectB)
    let a = try LuaHost(options: .init(seed: 1))
    let b = try LuaHost(options: .init(seed: 2))
    var (gotA, gotB) = ([String](), [String]())
    for _ in 0..<3 {
      gotA.append(try a.run(draw)[0])
      gotB.append(try b.run(draw)[0])
    }
    XCTAssertEqual(gotA, expectA)
    XCTAssertEqual(gotB, expectB)
    // Reseeding one host leaves the other's streams where they were.
    let c = try LuaHost(options: .init(seed: 1))
    let d = try LuaHost(options: .init(seed: 2))
    XCTAssertEqual(try c.run(draw)[0], expectA[0])
    try d.run("tensor.seed(99)")
    XCTAssertEqual(try c.run(draw)[0], expectA[1])
  }

  func testNestedHostHasItsOwnGradModeThreadsAndLimit() throws {
    // Live bytes are the process's (other tests may have left some): a's limit is 64 MB
    // over them, so its 128 MB tensor is refused and b's isn't.
    let limit = TensorMemory.liveBytes + (64 << 20)
    let a = try LuaHost(options: .init(memoryLimitBytes: limit, threads: 2))
    let b = try LuaHost(options: .init(threads: 1))
    pair(a, b)
    let out = try a.run(
      """
      local inner
      tensor.no_grad(function()
        inner = {other.run([[
          local x = tensor.ones{2}:requires_grad_()
          local n = tensor.zeros{32, 1024, 1024}:numel()  -- over a's limit, not b's
          collectgarbage()  -- free it before a allocates again
          return tostring((x * 2).requires_grad), tostring(probe.threads()), tostring(n)
        ]])}
      end)
      local x = tensor.ones{2}:requires_grad_()
      local ok, err = pcall(tensor.zeros, {32, 1024, 1024})
      return inner[1], inner[2], inner[3], tostring((x * 2).requires_grad), tostring(probe.threads()), tostring(err)
      """)
    XCTAssertEqual(Array(out.prefix(5)), ["true", "1", "33554432", "true", "2"])
    XCTAssertTrue(
      out[5].contains("the tensor memory limit of \(limit >> 20) MB is reached"), out[5])
    XCTAssertTrue(RunContext.current.gradEnabled)
    XCTAssertEqual(RunContext.current.memoryLimitBytes, 0)
  }

  func testWorkerThreadsRunWithTheCallersContext() throws {
    let context = RunContext(seed: 5, threads: 2)
    var seen = [Int](repeating: -1, count: 2)
    context.activate {
      Parallel.forChunks(2) { range in
        for i in range {
          seen[i] = RunContext.current === context ? Int(RunContext.current.seed) : 0
        }
      }
    }
    XCTAssertEqual(seen, [5, 5])
    XCTAssertFalse(RunContext.current === context, "the previous context is back")
  }

  func testNoticesAreSaidOncePerHost() throws {
    var said: [String] = []
    for _ in 0..<2 {
      let host = try LuaHost()
      host.noticeOutput = { said.append($0) }
      host.notice("using the sample")
      host.notice("using the sample")
    }
    XCTAssertEqual(said, ["using the sample", "using the sample"])
  }
}
