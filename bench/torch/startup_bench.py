"""PyTorch counterpart of bench/MoonlabBenchmarks/StartupBench.swift: the wall time of a
fresh `python -c "import torch"`, spawned and reaped the same way, median of 20.

    python bench/torch/startup_bench.py --threads 2 [startup]
"""

import os
import statistics
import sys
import time

import bench_args

REPEATS = 20


def wall_seconds(argv):
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        start = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, os.environ,
                             file_actions=[(os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)])
        _, status = os.waitpid(pid, 0)
        elapsed = time.perf_counter() - start
    finally:
        os.close(null)
    if status != 0:
        sys.exit(f"startup: {' '.join(argv)} failed (wait status {status})")
    return elapsed


def main():
    threads = bench_args.threads_if_selected("startup")
    if threads is None:
        return
    argv = [sys.executable, "-c", "import torch"]
    wall_seconds(argv)  # warm-up: the page cache, as the Swift side
    median = statistics.median(wall_seconds(argv) for _ in range(REPEATS)) * 1000
    print(f"startup_empty_script: {median:.4g} ms (python -c \"import torch\"; median of {REPEATS})")


if __name__ == "__main__":
    main()
