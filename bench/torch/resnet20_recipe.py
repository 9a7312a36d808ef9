"""ResNet-20 on CIFAR-10 in plain PyTorch on the CPU: the same network, shortcuts, init and
recipe as experiments/cifar_resnet20.lua (He et al. 2016, section 4.2), to compare seconds
per epoch and accuracy. Not a *_bench.py: bench/run.sh does not run it.

  float32, 2 threads (torch.set_num_threads), CIFAR-10 binary batches from
  $MOONLAB_DATA/cifar10 (data_batch_1..5.bin, test_batch.bin: records of 1 label byte +
  3072 bytes of CHW pixels), all 50k training images, batch 128, SGD lr 0.1 momentum 0.9
  weight decay 1e-4, lr / 10 at 1/2 and 3/4 of --iterations (32k, 48k of 64k), per-channel
  normalisation, pad-4 random crop + horizontal flip, test accuracy on the 10k test images.
  Activations and weights channels_last by default (--memory-format nchw for the plain
  layout): it was 1.2-1.3x faster in the quieter rounds of docs/EXPERIMENTS.md, though not
  in every busy one.

    .venv-bench/bin/python bench/torch/resnet20_recipe.py --epochs-timed 1     # time one epoch
    .venv-bench/bin/python bench/torch/resnet20_recipe.py --iterations 2000    # a short schedule
    .venv-bench/bin/python bench/torch/resnet20_recipe.py                      # the full 64k
"""
import argparse
import os
import statistics
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)


def read_cifar(root, names):
    raw = np.concatenate([np.fromfile(os.path.join(root, n), dtype=np.uint8) for n in names])
    raw = raw.reshape(-1, 3073)
    return torch.from_numpy(raw[:, 1:].reshape(-1, 3, 32, 32).copy()), torch.from_numpy(raw[:, 0].astype(np.int64))


class SubsamplePad(nn.Module):
    """Option A: x[:, :, ::2, ::2] with `extra` zero channels appended (no parameters)."""

    def __init__(self, extra):
        super().__init__()
        self.extra = extra

    def forward(self, x):
        s = x[:, :, ::2, ::2]
        return torch.cat([s, s.new_zeros(s.shape[0], self.extra, s.shape[2], s.shape[3])], 1)


class Basic(nn.Module):
    def __init__(self, cin, cout, stride, option):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
            nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = (SubsamplePad(cout - cin) if option == "A" else
                             nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)))

    def forward(self, x):
        return F.relu(self.block(x) + self.shortcut(x))


def resnet20(option="A"):
    layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    cin = 16
    for stage, width in enumerate([16, 32, 64]):
        for i in range(3):
            layers.append(Basic(cin, width, 2 if stage > 0 and i == 0 else 1, option))
            cin = width
    layers += [nn.AvgPool2d(8), nn.Flatten(), nn.Linear(64, 10)]
    net = nn.Sequential(*layers)
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")  # N(0, 2/fan_in)
        elif isinstance(m, nn.Linear):
            nn.init.zeros_(m.bias)  # weight: PyTorch's default U(±1/sqrt(64)), as the Lua script
    return net


def batches(x, y, batch, generator, augment):
    """One epoch: shuffled batches (last one smaller), normalised, optionally pad-4 crop + flip."""
    n = x.shape[0]
    order = torch.randperm(n, generator=generator) if augment else torch.arange(n)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    for s in range(0, n, batch):
        idx = order[s:s + batch]
        xb = x[idx]
        if augment:
            padded = F.pad(xb, (4, 4, 4, 4))
            offs = torch.randint(0, 9, (len(idx), 2), generator=generator).tolist()
            xb = torch.stack([padded[i, :, a:a + 32, b:b + 32] for i, (a, b) in enumerate(offs)])
            flip = torch.rand(len(idx), generator=generator) < 0.5
            xb = torch.where(flip.view(-1, 1, 1, 1), xb.flip(3), xb)
        yield (xb.float().div_(255) - mean) / std, y[idx]


def evaluate(net, x, y, memory_format):
    net.eval()
    correct = 0
    with torch.no_grad():
        for xb, yb in batches(x, y, 1000, None, False):
            correct += (net(xb.contiguous(memory_format=memory_format)).argmax(1) == yb).sum().item()
    net.train()
    return correct / x.shape[0]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--iterations", type=int, default=64000)
    p.add_argument("--epochs-timed", type=int, default=0, help="only time this many epochs (no schedule end, no test)")
    p.add_argument("--steps", type=int, default=0,
                   help="with --epochs-timed: time only this many steps of each epoch, extrapolated to a whole epoch")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--shortcut", choices=["A", "B"], default="A")
    p.add_argument("--memory-format", choices=["channels_last", "nchw"], default="channels_last",
                   help="channels_last was the faster in the quiet rounds of docs/EXPERIMENTS.md")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--root", default=os.path.join(os.environ.get("MOONLAB_DATA", "data"), "cifar10"))
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    fmt = torch.channels_last if args.memory_format == "channels_last" else torch.contiguous_format

    xtr, ytr = read_cifar(args.root, [f"data_batch_{i}.bin" for i in range(1, 6)])
    xte, yte = read_cifar(args.root, ["test_batch.bin"])
    net = resnet20(args.shortcut).to(memory_format=fmt)
    n_params = sum(q.numel() for q in net.parameters())
    print(f"ResNet-20, option {args.shortcut}: {n_params} parameters; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, {args.memory_format}", flush=True)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    milestones = [args.iterations // 2, args.iterations * 3 // 4]
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones, 0.1)  # stepped per iteration
    gen = torch.Generator().manual_seed(args.seed)
    steps_per_epoch = (xtr.shape[0] + 127) // 128
    epochs = args.epochs_timed or -(-args.iterations // steps_per_epoch)
    step, seconds = 0, []
    for epoch in range(1, epochs + 1):
        start, total, count = time.perf_counter(), 0.0, 0
        for xb, yb in batches(xtr, ytr, 128, gen, True):
            loss = F.cross_entropy(net(xb.contiguous(memory_format=fmt)), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            total, count = total + loss.item() * len(yb), count + len(yb)
            if not args.epochs_timed and step >= args.iterations:
                break
            if args.steps and count >= args.steps * 128:
                break
        elapsed = time.perf_counter() - start
        full = xtr.shape[0] / count * elapsed  # extrapolated to a whole epoch when it ended early
        seconds.append(full)
        line = f"epoch {epoch}/{epochs}  step {step}  train loss {total / count:.4f}  {full:.1f} s/epoch ({count / elapsed:.0f} images/s)"
        if not args.epochs_timed:
            line += f"  test acc {100 * evaluate(net, xte, yte, fmt):.2f} %  lr {opt.param_groups[0]['lr']:g}"
        print(line, flush=True)
    print(f"median {statistics.median(seconds):.1f} s per epoch over {len(seconds)} epochs", flush=True)
    if not args.epochs_timed:
        print(f"final test accuracy {100 * evaluate(net, xte, yte, fmt):.2f} % after {step} iterations (paper: 91.25 %)")


if __name__ == "__main__":
    main()
