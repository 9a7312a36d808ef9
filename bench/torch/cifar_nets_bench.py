"""PyTorch counterpart of bench/MoonlabBenchmarks/CIFARNetBench.swift: VGG-small and
ResNet-20 training images/s at batch 128 (forward, backward, plain SGD) on random data, then
their peak RSS at 3 and 12 steps (train_step.py).

    .venv-bench/bin/python bench/torch/cifar_nets_bench.py --threads 2 [vgg] [resnet20]
"""
import torch
import torch.nn as nn

import train_step


def vgg_small():
    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
    return nn.Sequential(*block(3, 32), *block(32, 32), nn.MaxPool2d(2), *block(32, 64), *block(64, 64),
                         nn.MaxPool2d(2), *block(64, 128), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2048, 10))


class Basic(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
            nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        return torch.relu(self.block(x) + (x if self.shortcut is None else self.shortcut(x)))


def resnet20():
    layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    cin = 16
    for stage, width in enumerate([16, 32, 64]):
        for i in range(3):
            layers.append(Basic(cin, width, 2 if stage > 0 and i == 0 else 1))
            cin = width
    layers += [nn.AvgPool2d(8), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


if __name__ == "__main__":
    train_step.main(__file__, {"vgg": (vgg_small, 128, 3, 3), "resnet20": (resnet20, 128, 3, 3)})
