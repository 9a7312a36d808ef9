"""PyTorch counterpart of bench/MoonlabBenchmarks/BNLayersBench.swift: BatchNorm2d,
BatchNorm + ReLU, BatchNorm + add + ReLU, 2x2 max pooling and 8x8 average pooling at the
VGG-style and ResNet-20 CIFAR shapes, batch 128, train mode; forward + backward, median ms.

    /work/main/.venv-bench/bin/python bench/torch/bn_layers_bench.py --threads 2 [bn_layers]
"""
import time

import torch
import torch.nn as nn

import bench_args

SHAPES = [(32, 32), (64, 16), (128, 8), (16, 32), (32, 16), (64, 8)]
BATCH = 128


def median(f, repeats=7):
    f()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def report(name, x, f, about=""):
    g = torch.randn_like(f(x))

    def forward():
        f(x)

    def both():
        x.grad = None
        f(x).backward(g)

    fwd, total = median(forward), median(both)
    prefix = about + ", " if about else ""
    print(f"{name}: {total * 1e3:.4g} ms ({prefix}forward {fwd * 1e3:.2f} ms, "
          f"backward {(total - fwd) * 1e3:.2f} ms, torch {torch.__version__})", flush=True)


def main():
    threads = bench_args.threads_if_selected("bn_layers")
    if threads is None:
        return
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    for c, side in SHAPES:
        x = torch.randn(BATCH, c, side, side, requires_grad=True)
        suffix = f"c{c}_{side}"
        bn = nn.BatchNorm2d(c)
        relu = nn.ReLU()
        report(f"bn2d_{suffix}", x, bn)
        report(f"bn_relu_{suffix}", x, nn.Sequential(bn, relu), "Sequential(BatchNorm2d, ReLU)")
        report(f"bn_relu_separate_{suffix}", x, lambda t: torch.relu(bn(t)))
        report(f"bn_add_relu_{suffix}", x, lambda t: torch.relu(bn(t) + t), "relu(bn(x) + x)")
        report(f"maxpool2_{suffix}", x, nn.MaxPool2d(2))
        if side == 8:
            report(f"avgpool8_{suffix}", x, nn.AvgPool2d(8))


if __name__ == "__main__":
    main()
