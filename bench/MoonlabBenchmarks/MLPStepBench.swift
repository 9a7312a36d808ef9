import MoonlabNN
import MoonlabTensor

/// One SGD step (zero_grad, forward, BCE loss, backward, step) of the seeds' first
/// experiment, the MLP 784-100(tanh)-100(tanh)-10(sigmoid), at batch 1, 16 and 1024: at
/// small batches the arithmetic is a few µs and the rest is per-step overhead (tape
/// nodes, allocation, BLAS set-up, optimizer loops). bench/torch/mlp_step_bench.py is the
/// PyTorch side.
enum MLPStepBench {
  static func run() throws {
    for (batch, steps) in [(1, 4000), (16, 2000), (1024, 60)] {
      RunContext.current.reseed(0)
      let model = Sequential([
        try Linear(784, 100), Tanh(), try Linear(100, 100), Tanh(), try Linear(100, 10), Sigmoid(),
      ])
      let gen = Generator(seed: 1, stream: "bench")
      let x = try Tensor.rand([batch, 784], generator: gen)
      let y = try Tensor.rand([batch, 10], generator: gen).gt(Tensor(scalar: 0.5))
      let loss = BCELoss()
      let sgd = try SGD(model.parameters(), lr: 0.1)
      let (wall, cpu) = try Timing.medians(repeats: 5) {
        for _ in 0..<steps {
          sgd.zeroGrad()
          try loss(model(x), y).backward()
          try sgd.step()
        }
      }
      Timing.report(
        "mlp_step_b\(batch)", Double(steps) / wall, "steps/s",
        String(
          format: "%.2f µs/step, %.2f CPU µs/step, %d threads", wall / Double(steps) * 1e6,
          cpu / Double(steps) * 1e6, RunContext.current.threads))
    }
  }
}
