"""PyTorch counterpart of bench/MoonlabBenchmarks/CIFARNetBench.swift: VGG-small and
ResNet-20 training images/s at batch 128 (forward, backward, plain SGD) on random data, then
their peak RSS at 3 and 12 steps (lenet_bench.report_peak_rss).

    .venv-bench/bin/python bench/torch/cifar_nets_bench.py --threads 2 [vgg] [resnet20]
"""
import argparse
import time

import torch
import torch.nn as nn

from lenet_bench import report_peak_rss, train_for_peak_rss


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


def bench(name, model, batch, steps):
    torch.manual_seed(0)
    flops = 6 * multiply_adds(model) * batch
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
    cpu_per_step = (time.process_time() - cpu0) / (5 * steps)
    print(f"{name}_train: {batch / per_step:.4g} images/s (batch {batch}, {per_step * 1e3:.2f} ms/step, "
          f"{cpu_per_step * 1e3:.2f} CPU ms/step, {flops / per_step / 1e9:.1f} GFLOP/s, "
          f"{torch.get_num_threads()} threads, torch {torch.__version__})", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rss-steps", type=int, help=argparse.SUPPRESS)
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for name, make in (("vgg", vgg_small), ("resnet20", resnet20)):
        if args.names and name not in args.names:
            continue
        if args.rss_steps:
            torch.manual_seed(0)
            train_for_peak_rss(make(), 128, args.rss_steps)
        else:
            bench(name, make(), 128, 3)
            report_peak_rss(name, __file__, 3, args.threads)


if __name__ == "__main__":
    main()
