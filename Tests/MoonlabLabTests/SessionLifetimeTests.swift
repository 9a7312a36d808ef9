import Foundation
import MoonlabLab
import MoonlabTensor
import TestSupport
import XCTest

/// A run made in this process (tests, notebooks) frees its Lua state and tensors when it
/// ends: the `lab`/`report` closures reach their session weakly (LabSession.weakly), where
/// a strong capture kept every such run alive.
final class SessionLifetimeTests: XCTestCase {
  func testAnEndedRunFreesItsTensors() throws {
    let folder = try TestPaths.temporaryDirectory()
    let script = folder.appendingPathComponent("big.lua")
    // 64 MB held by a global until the Lua state is closed; lab and report are used so
    // their closures exist.
    try """
    big = tensor.zeros{4096, 4096}
    lab.log{step = 1, loss = big:sum():item()}
    report.text('held')
    """.write(to: script, atomically: true, encoding: .utf8)
    let before = TensorMemory.liveBytes
    try runInProcess(script.path, out: folder.appendingPathComponent("run"))
    XCTAssertLessThan(
      TensorMemory.liveBytes - before, 16 << 20, "the run's 64 MB tensor is still alive")
  }
}
