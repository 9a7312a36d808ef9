"""PyTorch reference fixtures for optimizers, LR schedules and checkpoints.

Run from the repository root:  /work/torchvenv/bin/python scripts/fixtures_optim.py
Writes Tests/MoonlabNNTests/Fixtures/optim/*.json and
Tests/MoonlabNNTests/Fixtures/checkpoint/*; the Swift tests compare against them.

Optimizer problem: two parameters w [3,4] and b [5] with the elementwise gradient
    g = a * (p - t) + 0.1 * p * p * p
(a, t fixed). Gradients are set by hand instead of through autograd so the Swift test
computes the identical float32 gradient with the same operations; the trajectories then
differ only by the optimizer's own rounding.
"""

import json
import math
import os

import torch
from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(__file__), "..", "Tests", "MoonlabNNTests", "Fixtures")
STEPS = 20


def floats(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f)
        f.write("\n")


# ---------------------------------------------------------------------------------------
# Optimizers


def problem():
    g = torch.Generator().manual_seed(7)
    w = torch.randn(3, 4, generator=g)
    b = torch.randn(5, generator=g)
    a = torch.rand(17, generator=g) * 2 + 0.5
    t = torch.randn(17, generator=g)
    return w, b, a, t


def set_grads(params, a, t):
    off = 0
    for p in params:
        n = p.numel()
        ai, ti = a[off : off + n].view_as(p), t[off : off + n].view_as(p)
        x = p.detach()
        p.grad = ai * (x - ti) + 0.1 * x * x * x
        off += n


OPTIMIZERS = [
    ("sgd", "SGD", {"lr": 0.1}),
    ("sgd_momentum", "SGD", {"lr": 0.05, "momentum": 0.9}),
    ("sgd_nesterov", "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("sgd_weight_decay", "SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}),
    ("sgd_nesterov_weight_decay", "SGD", {"lr": 0.05, "momentum": 0.5, "nesterov": True, "weight_decay": 0.1}),
    ("adam", "Adam", {"lr": 0.01}),
    ("adam_weight_decay", "Adam", {"lr": 0.02, "betas": [0.8, 0.99], "eps": 1e-6, "weight_decay": 0.05}),
    ("adamw", "AdamW", {"lr": 0.01}),
    ("adamw_weight_decay", "AdamW", {"lr": 0.02, "betas": [0.85, 0.995], "eps": 1e-7, "weight_decay": 0.1}),
]


def optimizer_fixtures():
    w0, b0, a, t = problem()
    cases = []
    for name, kind, options in OPTIMIZERS:
        w, b = w0.clone().requires_grad_(), b0.clone().requires_grad_()
        kwargs = dict(options)
        if "betas" in kwargs:
            kwargs["betas"] = tuple(kwargs["betas"])
        if kind == "AdamW":
            kwargs.setdefault("weight_decay", 0.01)  # PyTorch's AdamW default
        opt = getattr(torch.optim, kind)([w, b], foreach=False, **kwargs)
        trajectory = []
        for _ in range(STEPS):
            opt.zero_grad()
            set_grads([w, b], a, t)
            opt.step()
            trajectory.append(floats(w) + floats(b))
        cases.append({"name": name, "optimizer": kind, "options": options, "trajectory": trajectory})
    write_json(
        os.path.join(ROOT, "optim", "optimizers.json"),
        {"w": floats(w0), "b": floats(b0), "a": floats(a), "t": floats(t), "cases": cases},
    )


# ---------------------------------------------------------------------------------------
# LR schedules: the lr after construction, then after each of N scheduler.step() calls.


def lr_sequence(make, n, base_lr=0.1):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=base_lr)
    sched = make(opt)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(n):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    return lrs


def warmup_factor(t, steps):
    """Moonlab's Warmup: lr(t) = inner_lr(t) * min(1, (t + 1) / steps)."""
    return min(1.0, (t + 1) / steps)


def schedule_fixtures():
    S = torch.optim.lr_scheduler
    cases = []

    def case(name, schedule, options, make, n=16, warmup=None):
        entry = {"name": name, "schedule": schedule, "options": options, "lr": 0.1, "lrs": lr_sequence(make, n)}
        if warmup is not None:
            entry["warmup"] = warmup
        cases.append(entry)

    case("multistep", "MultiStepLR", {"milestones": [3, 7, 7, 12], "gamma": 0.1},
         lambda o: S.MultiStepLR(o, milestones=[3, 7, 7, 12], gamma=0.1))
    case("step", "StepLR", {"step_size": 4, "gamma": 0.5}, lambda o: S.StepLR(o, step_size=4, gamma=0.5))
    case("cosine", "CosineLR", {"t_max": 10, "min_lr": 0.001},
         lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.001), n=25)
    case("cosine_zero_min", "CosineLR", {"t_max": 7}, lambda o: S.CosineAnnealingLR(o, T_max=7), n=10)

    # Warmup(MultiStepLR): linear warmup from lr/steps to lr over `steps` calls, composed
    # in PyTorch as ChainedScheduler(LinearLR(start 1/steps, total steps-1), MultiStepLR):
    # LinearLR's factor at t is 1/steps + (1 - 1/steps) * min(t, steps-1)/(steps-1)
    # = min(1, (t+1)/steps), and both are multiplicative, so the product is ours.
    W = 4
    case("warmup_multistep", "MultiStepLR", {"milestones": [6, 10], "gamma": 0.2},
         lambda o: S.ChainedScheduler([
             S.LinearLR(o, start_factor=1 / W, end_factor=1.0, total_iters=W - 1),
             S.MultiStepLR(o, milestones=[6, 10], gamma=0.2)]),
         warmup=W)

    # Warmup(CosineLR): ChainedScheduler would feed the warmed-up lr into the cosine
    # recursion (not a product when eta_min > 0), so compose with LambdaLR: the warmup
    # factor times PyTorch's own CosineAnnealingLR sequence run alongside.
    W = 5
    cosine = lr_sequence(lambda o: S.CosineAnnealingLR(o, T_max=12, eta_min=0.002), 20)
    case("warmup_cosine", "CosineLR", {"t_max": 12, "min_lr": 0.002},
         lambda o: S.LambdaLR(o, lambda t: warmup_factor(t, W) * cosine[t] / 0.1), n=20, warmup=W)

    write_json(os.path.join(ROOT, "optim", "schedules.json"), {"cases": cases})


# ---------------------------------------------------------------------------------------
# Checkpoints: a PyTorch state_dict with BatchNorm's num_batches_tracked (int64).


def checkpoint_fixtures():
    torch.manual_seed(3)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1),
        torch.nn.BatchNorm2d(4),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * 5 * 5, 3),
    )
    net.train()
    for _ in range(3):  # move the running statistics and num_batches_tracked
        net(torch.randn(2, 3, 5, 5))
    state = {k: v.contiguous() for k, v in net.state_dict().items()}
    assert state["1.num_batches_tracked"].dtype == torch.int64
    out = os.path.join(ROOT, "checkpoint")
    os.makedirs(out, exist_ok=True)
    save_file(state, os.path.join(out, "torch_sequential.safetensors"))
    write_json(
        os.path.join(out, "torch_sequential.json"),
        {k: {"shape": list(v.shape), "values": floats(v.float())} for k, v in state.items()},
    )
    # The loaded network's eval-mode output, for the test with moonlab's real layers.
    net.eval()
    x = torch.randn(2, 3, 5, 5)
    with torch.no_grad():
        y = net(x)
    write_json(
        os.path.join(out, "torch_sequential_io.json"),
        {"input": {"shape": list(x.shape), "values": floats(x)}, "output": {"shape": list(y.shape), "values": floats(y)}},
    )


if __name__ == "__main__":
    optimizer_fixtures()
    schedule_fixtures()
    checkpoint_fixtures()
    print("wrote fixtures under", os.path.normpath(ROOT))
