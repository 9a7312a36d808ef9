"""The airbench94 CIFAR-10 speedrun in plain PyTorch on the CPU: PyTorch's side of
experiments/cifar_speedrun.lua (docs/EXPERIMENTS.md, "The CIFAR-10 speedrun").

The recipe is Keller Jordan's airbench94 (github.com/KellerJordan/cifar10-airbench,
legacy/airbench94.py: 94.01 % mean over 1,000 runs on an A100 in float16), rewritten for a
CPU: float32, channels-last, `--threads` threads (2 by default), reading the CIFAR-10
binary files under $MOONLAB_DATA/cifar10 that the Lua script reads. Timing follows the
original: whitening initialisation + training + the final test-time-augmented evaluation
count; the per-epoch evaluation does not (its time is printed separately).

    OMP_NUM_THREADS=2 .venv-bench/bin/python bench/torch/airbench94_cpu.py [--seed 0] [--epochs 9.9]
"""
import argparse
import math
import os
import resource
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)


def read_cifar(root, names):
    """Records of 1 label byte + 3,072 pixel bytes (CHW) → uint8 images [N,3,32,32], labels [N]."""
    raw = np.concatenate([np.fromfile(os.path.join(root, n), dtype=np.uint8).reshape(-1, 3073) for n in names])
    return torch.from_numpy(raw[:, 1:].reshape(-1, 3, 32, 32).copy()), torch.from_numpy(raw[:, 0].astype(np.int64))


def normalize(images):
    x = images.float() / 255
    mean, std = torch.tensor(MEAN).view(1, 3, 1, 1), torch.tensor(STD).view(1, 3, 1, 1)
    return ((x - mean) / std).contiguous(memory_format=torch.channels_last)


class BatchNorm(nn.BatchNorm2d):
    """airbench's BatchNorm: eps 1e-12, momentum 0.6 in its convention (PyTorch's 0.4),
    the scale frozen at 1, the shift trained."""

    def __init__(self, width):
        super().__init__(width, eps=1e-12, momentum=0.4)
        self.weight.requires_grad = False


def conv(cin, cout, kernel=3, padding=1, bias=False):
    """A convolution whose first cin filters start as the identity (Dirac), biases at zero."""
    c = nn.Conv2d(cin, cout, kernel, padding=padding, bias=bias)
    if bias:
        nn.init.zeros_(c.bias)
    with torch.no_grad():
        nn.init.dirac_(c.weight[:cin])
    return c


def group(cin, cout):
    return [conv(cin, cout), nn.MaxPool2d(2), BatchNorm(cout), nn.GELU(),
            conv(cout, cout), BatchNorm(cout), nn.GELU()]


class MulConstant(nn.Module):
    def __init__(self, scale):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return x * self.scale


def make_net():
    whiten = conv(3, 24, kernel=2, padding=0, bias=True)
    whiten.weight.requires_grad = False
    net = nn.Sequential(whiten, nn.GELU(), *group(24, 64), *group(64, 256), *group(256, 256),
                        nn.MaxPool2d(3), nn.Flatten(), nn.Linear(256, 10, bias=False), MulConstant(1 / 9))
    return net.to(memory_format=torch.channels_last)


def init_whitening(layer, images, eps=5e-4):
    """Filters ±v/√(λ + eps) from the eigenvectors of the 2×2 patches' (uncentred) covariance."""
    c, (h, w) = images.shape[1], layer.weight.shape[2:]
    patches = images.unfold(2, h, 1).unfold(3, w, 1).transpose(1, 3).reshape(-1, c * h * w).float()
    cov = patches.T @ patches / len(patches)
    values, vectors = torch.linalg.eigh(cov)
    values, vectors = values.flip(0), vectors.T.flip(0).reshape(-1, c, h, w)
    scaled = vectors / torch.sqrt(values + eps).view(-1, 1, 1, 1)
    with torch.no_grad():
        layer.weight.copy_(torch.cat((scaled, -scaled)))


def augmented_epochs(images, labels, batch, generator):
    """airbench's loader: flip each image at random once, flip them all on odd epochs, a
    random translation of up to 2 pixels (reflect padding) every epoch, reshuffled."""
    coins = torch.rand(len(images), generator=generator) < 0.5
    flipped = torch.where(coins.view(-1, 1, 1, 1), images.flip(-1), images)
    padded = F.pad(flipped, (2, 2, 2, 2), mode="reflect")
    epoch = 0
    while True:
        shifts = torch.randint(0, 5, (len(images), 2), generator=generator)
        out = torch.empty_like(images)
        for sy in range(5):
            for sx in range(5):
                mask = (shifts[:, 0] == sy) & (shifts[:, 1] == sx)
                out[mask] = padded[mask, :, sy:sy + 32, sx:sx + 32]
        if epoch % 2 == 1:
            out = out.flip(-1)
        out = out.contiguous(memory_format=torch.channels_last)
        order = torch.randperm(len(images), generator=generator)
        yield [(out[order[i:i + batch]], labels[order[i:i + batch]]) for i in range(0, len(images) - batch + 1, batch)]
        epoch += 1


def logits_of(net, images, tta):
    """Test logits in batches of 2,000; tta 2 = airbench's level 2: the mirror average, and
    the mirror averages of the 1-pixel translates up-left and down-right (reflect padding)."""
    def mirror(x):
        return 0.5 * net(x) + 0.5 * net(x.flip(-1))

    outs = []
    with torch.no_grad():
        for x in images.split(2000):
            if tta == 0:
                outs.append(net(x))
                continue
            padded = F.pad(x, (1, 1, 1, 1), mode="reflect")
            shifted = [padded[:, :, 0:32, 0:32], padded[:, :, 2:34, 2:34]]
            translated = torch.stack([mirror(s.contiguous(memory_format=torch.channels_last)) for s in shifted]).mean(0)
            outs.append(0.5 * mirror(x) + 0.5 * translated)
    return torch.cat(outs)


def accuracy(net, images, labels, tta):
    net.eval()
    acc = (logits_of(net, images, tta).argmax(1) == labels).float().mean().item()
    net.train()
    return acc


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=float, default=9.9)
    p.add_argument("--root", default=os.path.join(os.environ.get("MOONLAB_DATA", "data"), "cifar10"))
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)

    train_raw, train_labels = read_cifar(args.root, [f"data_batch_{i}.bin" for i in range(1, 6)])
    test_raw, test_labels = read_cifar(args.root, ["test_batch.bin"])
    train_images, test_images = normalize(train_raw), normalize(test_raw)

    batch, momentum = 1024, 0.85
    kilostep = 1024 * (1 + 1 / (1 - momentum))  # Nesterov's step scale: lr per 1024 → SGD's lr
    lr, wd = 11.5 / kilostep, 0.0153 * batch / kilostep
    lr_biases = 64 * lr
    steps_per_epoch = len(train_images) // batch
    total_steps = math.ceil(steps_per_epoch * args.epochs)
    warmup = int(total_steps * 0.23)

    net = make_net()
    named = list(net.named_parameters())
    # BatchNorm shifts (the only trained BatchNorm parameters) at 64× the lr; wd scaled so the
    # decay per step stays wd·p.
    norm_ids = {id(m.bias) for m in net.modules() if isinstance(m, BatchNorm)}
    norm_biases = [q for _, q in named if id(q) in norm_ids]
    others = [q for _, q in named if id(q) not in norm_ids and q.requires_grad]
    opt = torch.optim.SGD([dict(params=norm_biases, lr=lr_biases, weight_decay=wd / lr_biases),
                           dict(params=others, lr=lr, weight_decay=wd / lr)], momentum=momentum, nesterov=True)

    def lr_factor(step):
        if step < warmup:
            return 0.2 + 0.8 * step / warmup
        return 1.0 + (0.07 - 1.0) * (step - warmup) / (total_steps - warmup)

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.2, reduction="sum")
    alpha = 0.95 ** 5 * (torch.arange(total_steps + 1) / total_steps) ** 3

    t0 = time.perf_counter()
    init_whitening(net[0], train_images[:5000])
    lookahead = {k: v.detach().clone() for k, v in net.state_dict().items()}

    def lookahead_update(decay):
        for k, v in net.state_dict().items():
            if v.dtype.is_floating_point:
                lookahead[k].lerp_(v, 1 - decay)
                v.copy_(lookahead[k])

    train_seconds = time.perf_counter() - t0
    eval_seconds = 0.0
    epochs = augmented_epochs(train_images, train_labels, batch, generator)
    step = 0
    print(f"cpu: {open('/proc/cpuinfo').read().split('model name')[1].split(':')[1].splitlines()[0].strip()}, "
          f"{args.threads} threads, torch {torch.__version__}, {total_steps} steps", flush=True)
    for epoch in range(math.ceil(args.epochs)):
        t0 = time.perf_counter()
        net[0].bias.requires_grad = epoch < 3  # the whitening bias trains for 3 epochs
        for x, y in next(epochs):
            out = net(x)
            loss = loss_fn(out, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if step % 5 == 0:
                lookahead_update(alpha[step].item())
            if step >= total_steps:
                lookahead_update(1.0)
                break
        seconds = time.perf_counter() - t0
        train_seconds += seconds
        t0 = time.perf_counter()
        val = accuracy(net, test_images, test_labels, tta=0)
        eval_seconds += time.perf_counter() - t0
        train_acc = (out.argmax(1) == y).float().mean().item()
        print(f"epoch {epoch + 1:2d}  train loss {loss.item() / len(y):.4f} acc {train_acc:.4f}  "
              f"val acc {val:.4f}  {seconds:.1f} s", flush=True)
    t0 = time.perf_counter()
    tta = accuracy(net, test_images, test_labels, tta=2)
    tta_seconds = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF)
    print(f"airbench94_cpu: val acc {val:.4f}, tta val acc {tta:.4f}, time {train_seconds + tta_seconds:.1f} s "
          f"(training {train_seconds:.1f} s + tta {tta_seconds:.1f} s; per-epoch evaluation {eval_seconds:.1f} s not counted), "
          f"peak RSS {rss.ru_maxrss / 1024:.0f} MiB, user {rss.ru_utime:.0f} s, system {rss.ru_stime:.0f} s", flush=True)


if __name__ == "__main__":
    main()
