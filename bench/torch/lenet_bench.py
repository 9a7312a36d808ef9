"""PyTorch counterpart of bench/MoonlabBenchmarks/LeNetBench.swift: LeNet-CIFAR training
images/s at batch 256 (forward, backward, plain SGD step) on random data, then the peak RSS
of 15 and 60 such steps, each in a fresh process as in bench/MoonlabBenchmarks/TrainingRSS.swift
(report_peak_rss, also used by cifar_nets_bench.py).

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
        return train_for_peak_rss(lenet(), 256, args.rss_steps)
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
    report_peak_rss("lenet", __file__, 15, args.threads)


def lenet():
    return nn.Sequential(
        nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def train_for_peak_rss(model, batch, steps):
    """The child's side: `steps` training steps, then this process's peak RSS."""
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(batch, 3, 32, 32), torch.randint(0, 10, (batch,))
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    print(f"peak_rss_kib: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")


def report_peak_rss(name, script, steps, threads):
    """Prints `NAME_rss: P MiB (N steps; 4N steps: Q MiB, +D %)`. ru_maxrss is per process, so
    each count of steps runs `script --rss-steps N NAME` in a fresh interpreter."""
    def peak(n):
        out = subprocess.run([sys.executable, script, "--threads", str(threads), "--rss-steps", str(n), name],
                             check=True, capture_output=True, text=True).stdout
        kib = int(next(line for line in out.splitlines() if line.startswith("peak_rss_kib: ")).split()[1])
        return (kib + 512) // 1024
    short, long = peak(steps), peak(4 * steps)
    print(f"{name}_rss: {short} MiB ({steps} steps; {4 * steps} steps: {long} MiB, "
          f"{(long - short) * 100 // short:+d} %)", flush=True)


if __name__ == "__main__":
    main()
