import MoonlabLua
import MoonlabTensor
import XCTest

/// Memory of Lua training loops (docs/architecture.md, "Memory"): backward frees each
/// step's graph, and the collector, paced by live tensor bytes, keeps up with graphs that
/// scripts drop without a backward. Counted in tensor bytes (live and pooled), which
/// unlike RSS don't depend on what else the test process did.
final class TrainingMemoryTests: XCTestCase {
  var host: LuaHost!
  var samples: [Int] = []

  override func setUpWithError() throws {
    host = try LuaHost()
    host.registerLibrary(
      "probe",
      [
        "sample": { [unowned self] _ in
          samples.append(TensorMemory.liveBytes + TensorMemory.pooledBytes)
          return 0
        }
      ])
    // Each step's graph holds ~0.5 MB of activations behind a one-element loss.
    try host.run(
      """
      net = nn.Sequential{nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)}
      crit = nn.CrossEntropyLoss()
      opt = optim.SGD(net:parameters(), {lr = 0.01, momentum = 0.9})
      x, y = tensor.randn{128, 64}, tensor.ones{128}
      """)
  }

  /// Growth of the sampled bytes from the end of step 10 to the largest sample after it.
  func growth() -> Int { (samples.dropFirst(10).max() ?? 0) - samples[9] }

  func testTrainingLoopHoldsNoGraphs() throws {
    try host.run(
      """
      for i = 1, 300 do
        opt:zero_grad(); local loss = crit(net(x), y); loss:backward(); opt:step()
        probe.sample()
      end
      """)
    XCTAssertLessThan(
      growth(), 2 << 20, "tensor bytes grew by \(growth() >> 10) KiB over 290 steps")
  }

  /// Graphs dropped without a backward wait for the collector, which runs once the live
  /// tensor bytes grew by 16 MiB (300 graphs would hold ~150 MB).
  func testCollectorFreesGraphsDroppedWithoutBackward() throws {
    try host.run(
      """
      for i = 1, 300 do
        local loss = crit(net(x), y)
        probe.sample()
      end
      """)
    XCTAssertLessThan(
      growth(), 24 << 20, "tensor bytes grew by \(growth() >> 20) MiB over 290 steps")
  }
}
