"""PyTorch counterpart of bench/MoonlabBenchmarks/LeNetBench.swift: LeNet-CIFAR training
images/s at batch 256 (forward, backward, plain SGD step) on random data, then the peak RSS
of 15 and 60 training steps (SGD with momentum), each in a fresh process as in
bench/MoonlabBenchmarks/TrainingRSS.swift.

    /work/torchvenv/bin/python bench/torch/lenet_bench.py --threads 2 [lenet]
"""
import argparse
import resource
import subprocess
import sys
import time

import torch
import torch.nn as nn


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rss-steps", type=int, help=argparse.SUPPRESS)
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    if args.names and "lenet" not in args.names:
        return
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.rss_steps:
        return train_for_peak_rss(args.rss_steps)
    model = lenet()
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
    short, long = (peak_rss_in_child(n, args.threads) for n in (15, 60))
    print(f"lenet_rss: {short} MiB (15 steps; 60 steps: {long} MiB, {(long - short) / short * 100:+.0f} %)")


def lenet():
    return nn.Sequential(
        nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def train_for_peak_rss(steps):
    model, loss_fn = lenet(), nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = torch.randn(256, 3, 32, 32), torch.arange(256) % 10
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    print(f"peak_rss_kib: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")


def peak_rss_in_child(steps, threads):
    """ru_maxrss is per process: each measurement runs in a fresh interpreter."""
    out = subprocess.run([sys.executable, __file__, "--threads", str(threads), "--rss-steps", str(steps)],
                         check=True, capture_output=True, text=True).stdout
    kib = int(next(line for line in out.splitlines() if line.startswith("peak_rss_kib: ")).split()[1])
    return (kib + 512) // 1024


if __name__ == "__main__":
    main()
