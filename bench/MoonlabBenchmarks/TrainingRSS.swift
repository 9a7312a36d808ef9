import Foundation
import MoonlabLab
import MoonlabLua
import MoonlabTensor

/// Peak RSS of a training loop written in Lua, as scripts train (issue 12: it must not grow
/// with the number of steps). ru_maxrss is per process, so each measurement runs in a
/// fresh one: `moonlab bench` starts its own executable again with the hidden
/// `--rss-workload NAME --rss-steps N`, which trains N steps and prints its peak. Each
/// workload is measured at N and 4N steps; bench/torch/ prints the same line.
public enum TrainingRSS {
  struct Workload {
    let steps: Int
    /// Lua defining `net` and a batch `x`, `y` (random data: no loader in the measurement).
    let setup: String
  }

  static let workloads: [String: Workload] = [
    "lenet": Workload(
      steps: 15,
      setup: """
        net = nn.Sequential{nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5),
          nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(),
          nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)}
        x = tensor.randn{256, 3, 32, 32}
        local labels = {}
        for i = 1, 256 do labels[i] = i % 10 + 1 end
        y = tensor.from(labels)
        """)
  ]

  /// Prints `NAME_rss: P MiB (N steps; 4N steps: Q MiB, +D %)`.
  static func report(_ name: String) throws {
    guard let workload = workloads[name] else { return }
    let short = try peakInChild(name, steps: workload.steps)
    let long = try peakInChild(name, steps: 4 * workload.steps)
    Timing.report(
      "\(name)_rss", Double(short), "MiB",
      String(
        format: "%d steps; %d steps: %d MiB, %+.0f %%", workload.steps, 4 * workload.steps, long,
        Double(long - short) / Double(short) * 100))
  }

  /// The child's side: trains `steps` steps of workload `name` (plain SGD with momentum,
  /// the loop of docs/optim.md) and prints `peak_rss_kib: K`.
  public static func runWorkload(_ name: String, steps: Int) throws {
    guard let workload = workloads[name] else {
      throw TensorError("no RSS workload '\(name)'; choose from \(workloads.keys.sorted().joined(separator: ", "))")
    }
    let host = try LuaHost()
    try host.run(workload.setup, chunkname: "=\(name)")
    try host.run(
      """
      local crit = nn.CrossEntropyLoss()
      local opt = optim.SGD(net:parameters(), {lr = 0.01, momentum = 0.9})
      for i = 1, \(steps) do
        opt:zero_grad(); local loss = crit(net(x), y); loss:backward(); opt:step()
      end
      """, chunkname: "=\(name)")
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    print("peak_rss_kib: \(usage.ru_maxrss)")
  }

  /// Peak RSS in MiB of a fresh `moonlab bench` process training `steps` steps.
  static func peakInChild(_ name: String, steps: Int) throws -> Int {
    let child = Process()
    child.executableURL = URL(
      fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
    child.arguments = [
      "bench", "--threads", "\(Parallel.threads)", "--rss-workload", name, "--rss-steps", "\(steps)",
    ]
    let pipe = Pipe()
    child.standardOutput = pipe
    try child.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    child.waitUntilExit()
    guard child.terminationStatus == 0,
      let line = output.split(separator: "\n").first(where: { $0.hasPrefix("peak_rss_kib: ") }),
      let kib = Int(line.dropFirst("peak_rss_kib: ".count))
    else {
      throw TensorError("\(name)_rss: the measuring process failed (status \(child.terminationStatus))")
    }
    return (kib + 512) / 1024
  }
}
