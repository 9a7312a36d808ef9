"""PyTorch counterpart of bench/MoonlabBenchmarks/MLPStepBench.swift: steps/s of one SGD
step (zero_grad, forward, BCE loss, backward, step) of the MLP 784-100(tanh)-100(tanh)-
10(sigmoid) at batch 1, 16 and 1024 (median of 5 runs after a warm-up).

    .venv-bench/bin/python bench/torch/mlp_step_bench.py --threads 2 [mlp_step]
"""
import time

import torch
import torch.nn as nn

import bench_args


def main():
    threads = bench_args.threads_if_selected("mlp_step")
    if threads is None:
        return
    torch.set_num_threads(threads)
    for batch, steps in [(1, 4000), (16, 2000), (1024, 60)]:
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(784, 100), nn.Tanh(), nn.Linear(100, 100), nn.Tanh(),
                              nn.Linear(100, 10), nn.Sigmoid())
        x = torch.rand(batch, 784)
        y = (torch.rand(batch, 10) > 0.5).float()
        loss_fn = nn.BCELoss()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)

        def run():
            for _ in range(steps):
                opt.zero_grad()
                loss_fn(model(x), y).backward()
                opt.step()
        run()
        walls, cpus = [], []
        for _ in range(5):
            t0, c0 = time.perf_counter(), time.process_time()
            run()
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        wall, cpu = sorted(walls)[2], sorted(cpus)[2]
        print(f"mlp_step_b{batch}: {steps / wall:.4g} steps/s ({wall / steps * 1e6:.2f} µs/step, "
              f"{cpu / steps * 1e6:.2f} CPU µs/step, {torch.get_num_threads()} threads, "
              f"torch {torch.__version__})", flush=True)


if __name__ == "__main__":
    main()
