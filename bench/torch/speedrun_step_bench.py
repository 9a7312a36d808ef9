"""PyTorch counterpart of bench/MoonlabBenchmarks/SpeedrunStepBench.swift: one training step of
airbench94's network at batch 1024 on random data (the network of airbench94_cpu.py,
channels-last; summed label-smoothed cross-entropy, Nesterov SGD with the BatchNorm shifts in
their own group), median of 5 after a warm-up, then its peak RSS at 1 and 4 steps, each in a
fresh interpreter.

    .venv-bench/bin/python bench/torch/speedrun_step_bench.py --threads 2 [speedrun_step]
"""
import resource
import statistics
import subprocess
import sys
import time

import torch
import torch.nn as nn

import airbench94_cpu
import bench_args

BATCH = 1024


def step_of():
    net = airbench94_cpu.make_net()
    norm_ids = {id(m.bias) for m in net.modules() if isinstance(m, airbench94_cpu.BatchNorm)}
    norm_biases = [p for p in net.parameters() if id(p) in norm_ids]
    others = [p for p in net.parameters() if id(p) not in norm_ids and p.requires_grad]
    opt = torch.optim.SGD([dict(params=norm_biases, lr=0.4, weight_decay=1e-3),
                           dict(params=others, lr=0.006, weight_decay=5e-3)], momentum=0.85, nesterov=True)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.2, reduction="sum")
    x = torch.randn(BATCH, 3, 32, 32).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (BATCH,))

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(net(x), y).backward()
        opt.step()
    return step


def peak_rss_mib(threads, steps):
    out = subprocess.run([sys.executable, __file__, "--threads", str(threads), "--rss-steps", str(steps)],
                         check=True, capture_output=True, text=True).stdout
    return (int(out.split("peak_rss_kib: ")[1].split()[0]) + 512) // 1024


def main():
    if "--rss-steps" in sys.argv:
        torch.set_num_threads(int(sys.argv[sys.argv.index("--threads") + 1]))
        step = step_of()
        for _ in range(int(sys.argv[sys.argv.index("--rss-steps") + 1])):
            step()
        print(f"peak_rss_kib: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")
        return
    threads = bench_args.threads_if_selected("speedrun_step")
    if threads is None:
        return
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    step = step_of()
    step()
    cpu0 = time.process_time()
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    seconds = statistics.median(times)
    cpu = (time.process_time() - cpu0) / 5
    print(f"speedrun_step: {seconds * 1e3:.1f} ms (batch {BATCH}, {BATCH / seconds:.1f} images/s, "
          f"{cpu * 1e3:.2f} CPU ms/step, {threads} threads, channels-last, torch {torch.__version__})", flush=True)
    short, long = peak_rss_mib(threads, 1), peak_rss_mib(threads, 4)
    print(f"speedrun_step_rss: {short} MiB (1 steps; 4 steps: {long} MiB, {(long - short) * 100 // short:+d} %)",
          flush=True)


if __name__ == "__main__":
    main()
