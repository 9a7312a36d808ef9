import Foundation
import MoonlabLab
import MoonlabLua
import MoonlabNN
import MoonlabTensor

/// Peak RSS of a training loop written in Lua, as scripts train (issue 12: it must not grow
/// with the number of steps), for the networks of the `lenet`, `vgg` and `resnet20`
/// benchmarks. ru_maxrss is per process, so each measurement runs in a
/// fresh one: `moonlab bench` starts its own executable again with the hidden
/// `--rss-workload NAME --rss-steps N`, which trains N steps and prints its peak. Each
/// workload is measured at N and 4N steps; bench/torch/ prints the same line.
public enum TrainingRSS {
  /// The networks of TrainStepBench and SpeedrunStepBench with their batch and N (the issue
  /// measured LeNet at 15 and 60 steps, VGG-small at 3 and 12).
  static let workloads: [String: (batch: Int, steps: Int, model: () throws -> Module)] = [
    "lenet": (256, 15, LeNetBench.model),
    "vgg": (128, 3, CIFARNetBench.vggSmall),
    "resnet20": (128, 3, CIFARNetBench.resnet20),
    "speedrun_step": (1024, 1, { try SpeedrunStepBench.net().model }),
  ]

  /// Prints `NAME_rss: P MiB (N steps; 4N steps: Q MiB, +D %)`.
  static func report(_ name: String) throws {
    guard let workload = workloads[name] else { return }
    let short = try peakInChild(name, steps: workload.steps)
    let long = try peakInChild(name, steps: 4 * workload.steps)
    Timing.report(
      "\(name)_rss", Double(short), "MiB",
      String(
        format: "%d steps; %d steps: %d MiB, %+d %%", workload.steps, 4 * workload.steps, long,
        (long - short) * 100 / short))
  }

  /// The child's side: trains `steps` steps of workload `name` with the loop of
  /// docs/optim.md, in Lua (SGD as in TrainStepBench), and prints `peak_rss_kib: K`.
  public static func runWorkload(_ name: String, steps: Int) throws {
    guard let workload = workloads[name] else {
      throw TensorError(
        "no RSS workload '\(name)'; choose from \(workloads.keys.sorted().joined(separator: ", "))")
    }
    let model = try workload.model()
    let (x, y) = try TrainStepBench.randomBatch(workload.batch)
    let labels = y.add(1)  // Lua's labels count from 1
    let host = try LuaHost(options: .init(threads: RunContext.current.threads))
    host.registerLibrary(
      "workload",
      [
        "get": { lua in
          lua.push(model, as: .module)
          lua.push(x)
          lua.push(labels)
          return 3
        }
      ])
    try host.run(
      """
      local net, x, y = workload.get()
      local crit = nn.CrossEntropyLoss()
      local opt = optim.SGD(net:parameters(), {lr = 0.01})
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
      "bench", "--threads", "\(RunContext.current.threads)", "--rss-workload", name, "--rss-steps",
      "\(steps)",
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
      throw TensorError(
        "\(name)_rss: the measuring process failed (status \(child.terminationStatus))")
    }
    return (kib + 512) / 1024
  }
}
