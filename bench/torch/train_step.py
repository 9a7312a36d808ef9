"""The training-step benchmark shared by lenet_bench.py and cifar_nets_bench.py, the
PyTorch side of bench/MoonlabBenchmarks/TrainStepBench.swift and TrainingRSS.swift: images/s
of forward + backward + plain SGD on random data (median of 5 runs of `steps` steps), and
the peak RSS of N and 4N steps, each counted in a fresh interpreter (ru_maxrss is per
process). Not a benchmark itself: bench/run.sh runs the *_bench.py files.
"""
import argparse
import resource
import subprocess
import sys
import time

import torch
import torch.nn as nn


def multiply_adds(model):
    """Forward multiply-adds per image of the convolutions and Linear layers."""
    total = 0

    def hook(m, _, out):
        nonlocal total
        if isinstance(m, nn.Conv2d):
            total += out[0].numel() * m.in_channels * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.Linear):
            total += m.in_features * m.out_features
    handles = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.no_grad():
        model(torch.zeros(1, 3, 32, 32))
    for h in handles:
        h.remove()
    return total


def steps_of(model, batch):
    """A function running n SGD steps of `model` on one random batch."""
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(batch, 3, 32, 32), torch.randint(0, 10, (batch,))

    def run(n):
        for _ in range(n):
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
    return run


def bench(name, model, batch, steps):
    """Prints `NAME_train: R images/s (…)` as the Swift benchmark does."""
    torch.manual_seed(0)
    flops = 6 * multiply_adds(model) * batch  # forward, input and weight gradients
    run = steps_of(model, batch)
    run(steps)
    cpu0 = time.process_time()
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        run(steps)
        times.append(time.perf_counter() - t0)
    per_step = sorted(times)[len(times) // 2] / steps
    # CPU time (all threads) per step: steadier than wall time on a shared machine.
    cpu_per_step = (time.process_time() - cpu0) / (5 * steps)
    print(f"{name}_train: {batch / per_step:.4g} images/s (batch {batch}, {per_step * 1e3:.2f} ms/step, "
          f"{cpu_per_step * 1e3:.2f} CPU ms/step, {flops / per_step / 1e9:.1f} GFLOP/s, "
          f"{torch.get_num_threads()} threads, torch {torch.__version__})", flush=True)


def report_peak_rss(name, script, steps, threads):
    """Prints `NAME_rss: P MiB (N steps; 4N steps: Q MiB, +D %)`, each count of steps run as
    `script --rss-steps N NAME` in a fresh interpreter."""
    def peak(n):
        out = subprocess.run([sys.executable, script, "--threads", str(threads), "--rss-steps", str(n), name],
                             check=True, capture_output=True, text=True).stdout
        kib = int(next(line for line in out.splitlines() if line.startswith("peak_rss_kib: ")).split()[1])
        return (kib + 512) // 1024
    short, long = peak(steps), peak(4 * steps)
    print(f"{name}_rss: {short} MiB ({steps} steps; {4 * steps} steps: {long} MiB, "
          f"{(long - short) * 100 // short:+d} %)", flush=True)


def main(script, workloads):
    """Runs the named workloads {name: (make_model, batch, timed steps, RSS steps)} (all
    without names), or, with --rss-steps, one of them as the peak-RSS child."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rss-steps", type=int, help=argparse.SUPPRESS)
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for name, (make, batch, steps, rss_steps) in workloads.items():
        if args.names and name not in args.names:
            continue
        torch.manual_seed(0)
        if args.rss_steps:
            steps_of(make(), batch)(args.rss_steps)
            print(f"peak_rss_kib: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")
        else:
            bench(name, make(), batch, steps)
            report_peak_rss(name, script, rss_steps, args.threads)
