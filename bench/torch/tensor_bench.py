"""PyTorch counterpart of bench/MoonlabBenchmarks/TensorBench.swift: same names, same work.

    python bench/torch/tensor_bench.py --threads 2 [tensor]
"""

import statistics
import time

import torch

import bench_args


def median_time(body, repeats=7):
    body()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        body()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def report(name, value, unit, details=""):
    print(f"{name}: {value:.4g} {unit}" + (f" ({details})" if details else ""))


def matmul(n):
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(n, n, generator=g), torch.randn(n, n, generator=g)
    inner = max(1, (1 << 30) // (n * n * n))

    def body():
        for _ in range(inner):
            a @ b

    report(f"matmul_{n}", 2 * n**3 * inner / median_time(body) / 1e9, "GFLOP/s")


def elementwise(n):
    g = torch.Generator().manual_seed(2)
    x, y = torch.randn(n, generator=g), torch.randn(n, generator=g)
    report("add_4m", 12 * n / median_time(lambda: x + y) / 1e9, "GB/s", "x + y, 3 floats moved per element")
    report("exp_4m", n / median_time(lambda: x.exp()) / 1e9, "Gelem/s")
    chain = median_time(lambda: (x * y + x).relu().tanh())
    report("elementwise_chain_4m", n / chain / 1e9, "Gelem/s", "tanh(relu(x*y + x)), 4 kernels")


def main():
    threads = bench_args.threads_if_selected("tensor")
    if threads is None:
        return
    torch.set_num_threads(threads)
    with torch.no_grad():
        for n in (256, 512, 1024):
            matmul(n)
        elementwise(1 << 22)


if __name__ == "__main__":
    main()
