import Foundation
import MoonlabLab
import MoonlabTensor

/// `data_parallel`: LeNet on MNIST at global batch 256 trained by one process and by two
/// MPI ranks (`moonlab run --np 2`), one thread each (issue 18): images/s of each (median
/// of the epochs after the first), the scaling efficiency, and what the gradient sum costs
/// per step. Needs Open MPI (scripts/mpi_setup.sh) and MNIST under MOONLAB_DATA.
enum DataParallelBench {
  static let steps = 30
  static let epochs = 4

  static let script = """
    local ds = data.mnist{split = 'train'}:subset(1, 256 * \(steps))
    local net = nn.Sequential{
      nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
      nn.MaxPool2d(2), nn.Flatten(), nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84),
      nn.ReLU(), nn.Linear(84, 10),
    }
    lab.fit{model = net, loss = nn.CrossEntropyLoss(), epochs = \(epochs),
      optimizer = optim.SGD(net:parameters(), {lr = 0.01, momentum = 0.9}),
      train = data.Loader(ds, {batch_size = 256, shuffle = true, seed = 1})}
    local d = lab.distributed()
    lab.log{gradient_sums = d.gradient_sums, gradient_sum_seconds = d.gradient_sum_seconds,
      gradient_sum_bytes = d.gradient_sum_bytes}
    """

  static func run() throws {
    let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    let folder = try Folder.temporary("moonlab-data-parallel")
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("lenet_dp.lua").path
    try Data(script.utf8).write(to: URL(fileURLWithPath: path))
    func train(_ name: String, _ extra: [String]) throws -> [JSON] {
      let out = folder.appendingPathComponent(name).path
      _ = try StartupBench.wallSeconds(
        [exe, "run", path, "--threads", "1", "--out", out] + extra)
      return try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8)
        .split(separator: "\n").map { try JSON.parse(String($0)) }
    }
    func rate(_ lines: [JSON]) -> Double {
      let rates = lines.compactMap { $0["images_per_s"]?.double }.dropFirst().sorted()
      return rates[rates.count / 2]
    }
    let one = try train("one", [])
    let two = try train("two", ["--np", "2"])
    let (r1, r2) = (rate(one), rate(two))
    let about = "LeNet, MNIST, global batch 256, 1 thread per rank; median of epochs 2–\(epochs)"
    Timing.report("data_parallel_1_process", r1, "images/s", about)
    Timing.report("data_parallel_2_ranks", r2, "images/s", about)
    Timing.report(
      "data_parallel_efficiency", 100 * r2 / (2 * r1), "%",
      "2 ranks' images/s ÷ (2 × one process's)")
    guard let sums = two.last, let n = sums["gradient_sums"]?.double, n > 0 else {
      throw TensorError("data_parallel: the 2-rank run logged no gradient sums")
    }
    let seconds = sums["gradient_sum_seconds"]?.double ?? 0
    let bytes = sums["gradient_sum_bytes"]?.double ?? 0
    Timing.report(
      "data_parallel_gradient_sum", seconds / n * 1000, "ms",
      String(
        format: "per step on rank 0, %.0f KB sent per rank per step, %d steps", bytes / n / 1000,
        Int(n)))
  }
}
