"""PyTorch counterpart of bench/MoonlabBenchmarks/ConvLayersBench.swift: each VGG-small and
ResNet-20 convolution alone at batch 128, forward and backward median ms and GFLOP/s, and CPU ms (all threads).

    .venv-bench/bin/python bench/torch/conv_layers_bench.py --threads 2 [conv_layers]
"""
import statistics
import time

import torch
import torch.nn as nn

import bench_args

SHAPES = [  # name, Cin, Cout, kernel, stride, input size, bias (the speedrun's: channels-last, as airbench94_cpu.py)
    ("vgg_3_32", 3, 32, 3, 1, 32, True),
    ("vgg_32_32", 32, 32, 3, 1, 32, True),
    ("vgg_32_64", 32, 64, 3, 1, 16, True),
    ("vgg_64_64", 64, 64, 3, 1, 16, True),
    ("vgg_64_128", 64, 128, 3, 1, 8, True),
    ("resnet_3_16", 3, 16, 3, 1, 32, False),
    ("resnet_16_16", 16, 16, 3, 1, 32, False),
    ("resnet_16_32_s2", 16, 32, 3, 2, 32, False),
    ("resnet_32_32", 32, 32, 3, 1, 16, False),
    ("resnet_32_64_s2", 32, 64, 3, 2, 16, False),
    ("resnet_64_64", 64, 64, 3, 1, 8, False),
    ("resnet_1x1_16_32_s2", 16, 32, 1, 2, 32, False),
    ("resnet_1x1_32_64_s2", 32, 64, 1, 2, 16, False),
    ("speedrun_24_64", 24, 64, 3, 1, 31, False),
    ("speedrun_64_64", 64, 64, 3, 1, 15, False),
    ("speedrun_64_256", 64, 256, 3, 1, 15, False),
    ("speedrun_256_256_7", 256, 256, 3, 1, 7, False),
    ("speedrun_256_256_3", 256, 256, 3, 1, 3, False),
]


def median(fn, repeats=9):
    """Median wall and CPU seconds (all threads) after one warm-up run."""
    fn()
    walls, cpus = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def main():
    threads = bench_args.threads_if_selected("conv_layers")
    if threads is None:
        return
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    batch = 128
    for name, cin, cout, k, stride, size, bias in SHAPES:
        conv = nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=bias)
        x = torch.randn(batch, cin, size, size)
        if name.startswith("speedrun"):
            conv = conv.to(memory_format=torch.channels_last)
            x = x.to(memory_format=torch.channels_last)
        x.requires_grad = cin != 3
        state = {}

        def forward():
            state["y"] = conv(x)

        fwd, fwd_cpu = median(forward)
        g = torch.randn_like(state["y"])

        def backward():
            state["y"].backward(g, retain_graph=True)

        bwd, bwd_cpu = median(backward)
        flop = 2.0 * batch * cout * cin * k * k * state["y"].shape[2] * state["y"].shape[3]
        bflop = 2 * flop if x.requires_grad else flop
        print(f"conv_{name}: {(fwd + bwd) * 1e3:.4g} ms (forward {fwd * 1e3:.2f} ms "
              f"{flop / fwd * 1e-9:.1f} GFLOP/s, backward {bwd * 1e3:.2f} ms {bflop / bwd * 1e-9:.1f} GFLOP/s; "
              f"CPU ms forward {fwd_cpu * 1e3:.2f}, backward {bwd_cpu * 1e3:.2f})")


if __name__ == "__main__":
    main()
