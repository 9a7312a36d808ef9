"""PyTorch counterpart of bench/MoonlabBenchmarks/LeNetBench.swift: LeNet-CIFAR training
images/s at batch 256 (forward, backward, plain SGD step) on random data, then the peak RSS
of 15 and 60 such steps (train_step.py).

    .venv-bench/bin/python bench/torch/lenet_bench.py --threads 2 [lenet]
"""
import torch.nn as nn

import train_step


def lenet():
    return nn.Sequential(
        nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


if __name__ == "__main__":
    train_step.main(__file__, {"lenet": (lenet, 256, 10, 15)})
