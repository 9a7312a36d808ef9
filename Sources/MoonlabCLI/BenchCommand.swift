import ArgumentParser
import Foundation
import MoonlabBenchmarks
import MoonlabTensor

/// `moonlab bench [name…]`: the benchmark suite (bench/README.md) on this machine.
struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Measure this machine: Lua calls, matmul, the data pipeline, LeNet training.",
    discussion:
      "Each benchmark prints `name: value unit (details)`, medians of repeated runs. bench/run.sh runs the PyTorch counterparts beside them and prints the ratios."
  )

  @Argument(help: "Benchmarks to run (default: all; see --list).") var names: [String] = []
  @Option(help: "Threads for our kernels and OpenBLAS.") var threads = 2
  @Flag(help: "List the benchmarks and exit.") var list = false
  /// A training workload whose peak RSS a parent `moonlab bench` measures in this fresh
  /// process (bench/MoonlabBenchmarks/TrainingRSS.swift).
  @Option(help: .hidden) var rssWorkload: String?
  @Option(help: .hidden) var rssSteps = 0

  func run() throws {
    if list {
      for b in Benchmarks.list { print("\(b.name): \(b.about)") }
      return
    }
    guard threads > 0 else { throw fail("--threads must be positive, got \(threads)", code: 2) }
    RunContext.current.threads = threads
    if let rssWorkload {
      do {
        return try TrainingRSS.runWorkload(rssWorkload, steps: rssSteps)
      } catch {
        throw fail(String(describing: error), code: 1)
      }
    }
    let failures: Int
    do {
      failures = try Benchmarks.run(names)
    } catch {
      throw fail(String(describing: error), code: 2)
    }
    if failures > 0 { throw ExitCode(1) }
  }
}
