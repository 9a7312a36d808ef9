#!/usr/bin/env python3
"""Builds the CIFAR-10 sample bundled with Moonlab (Sources/MoonlabData/Sample/cifar10).

The first N records of data_batch_1.bin and of test_batch.bin, unchanged (same 3,073-byte
record format), gzipped, plus batches.meta.txt. Usage:
    python3 scripts/make_sample.py [CIFAR10_DIR] [N]
CIFAR10_DIR defaults to ../shared/data/cifar10 (next to the repository), N to 1000.
"""
import gzip
import os
import sys

RECORD = 1 + 3 * 32 * 32
repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(repo, "..", "shared", "data", "cifar10")
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
out = os.path.join(repo, "Sources", "MoonlabData", "Sample", "cifar10")
os.makedirs(out, exist_ok=True)

for name, split in (("data_batch_1.bin", "train"), ("test_batch.bin", "test")):
    with open(os.path.join(src, name), "rb") as f:
        records = f.read(n * RECORD)
    assert len(records) == n * RECORD, f"{name} has fewer than {n} records"
    counts = [0] * 10
    for i in range(n):
        counts[records[i * RECORD]] += 1
    # mtime=0 keeps the .gz byte-identical from run to run.
    with open(os.path.join(out, f"{split}.bin.gz"), "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", compresslevel=9, mtime=0, filename="") as g:
            g.write(records)
    print(f"{split}: {n} images from {name}, per class {counts}")

with open(os.path.join(src, "batches.meta.txt"), "rb") as f:
    meta = f.read()
with open(os.path.join(out, "batches.meta.txt"), "wb") as f:
    f.write(meta)
