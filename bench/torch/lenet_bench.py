"""PyTorch counterpart of bench/MoonlabBenchmarks/LeNetBench.swift: LeNet-CIFAR training
images/s at batch 256 (forward, backward, plain SGD step) on random data.

    /work/torchvenv/bin/python bench/torch/lenet_bench.py --threads 2 [lenet]
"""
import argparse
import time

import torch
import torch.nn as nn


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    if args.names and "lenet" not in args.names:
        return
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    batch, steps = 256, 10
    x = torch.randn(batch, 3, 32, 32)
    y = torch.randint(0, 10, (batch,))
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)

    def run():
        for _ in range(steps):
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()

    run()
    cpu0 = time.process_time()
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    per_step = sorted(times)[len(times) // 2] / steps
    # CPU time (all threads) per step: steadier than wall time on a shared machine.
    cpu_per_step = (time.process_time() - cpu0) / (5 * steps)
    print(f"lenet_train: {batch / per_step:.4g} images/s (batch {batch}, {per_step * 1e3:.2f} ms/step, "
          f"{cpu_per_step * 1e3:.2f} CPU ms/step, {torch.get_num_threads()} threads, torch {torch.__version__})")


if __name__ == "__main__":
    main()
