"""PyTorch reference fixtures for losses, optimizers, gradient clipping and LR schedules
added for experimenters (issue 14).

Run from the repository root:  /work/main/.venv-bench/bin/python scripts/fixtures_training.py
Writes Tests/MoonlabNNTests/Fixtures/training_fixtures.json, read by
Tests/MoonlabNNTests/TrainingFixtureTests.swift.

Losses: value and gradients of input and target (class labels are 0-based, as Swift
uses them). A loss with reduction 'none' is backpropagated from out.sum().
Optimizers: the problem of scripts/fixtures_optim.py (gradients set by hand), 20 steps.
"""

import json
import os

import torch
import torch.nn.functional as F

from fixtures_optim import problem
from fixtures_optim import set_grads as set_problem_grads

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "MoonlabNNTests", "Fixtures",
                   "training_fixtures.json")
gen = torch.Generator().manual_seed(14)


def t(x):
    return {"shape": list(x.shape), "data": [float(v) for v in x.detach().reshape(-1).tolist()]}


def randn(*shape):
    return torch.randn(*shape, generator=gen)


cases = {}


def loss_case(name, loss, options, x, target, target_grad=False):
    x = x.clone().requires_grad_()
    target = target.clone().requires_grad_(target_grad)
    out = loss(x, target)
    (out.sum() if out.dim() > 0 else out).backward()
    case = {"options": options, "inputs": [t(x)], "target": t(target), "output": t(out),
            "grad_input": t(x.grad)}
    if target_grad:
        case["grad_target"] = t(target.grad)
    cases[name] = case


# ---------------------------------------------------------------------------------------
# Losses

logits = randn(6, 5) * 2
labels = torch.tensor([0, 3, 4, 1, 3, 2]).float()
weight = torch.tensor([1.0, 2.0, 0.5, 1.5, 3.0])
long = labels.long()


def ce(**kw):
    return lambda x, y: F.cross_entropy(x, y.long(), **kw)


loss_case("ce_weight", ce(weight=weight), {"weight": t(weight)}, logits, labels)
loss_case("ce_smoothing", ce(label_smoothing=0.1), {"label_smoothing": 0.1}, logits, labels)
loss_case("ce_weight_smoothing_sum", ce(weight=weight, label_smoothing=0.2, reduction="sum"),
          {"weight": t(weight), "label_smoothing": 0.2, "reduction": "sum"}, logits, labels)
loss_case("ce_weight_smoothing_mean", ce(weight=weight, label_smoothing=0.3),
          {"weight": t(weight), "label_smoothing": 0.3}, logits, labels)
loss_case("ce_none", ce(weight=weight, reduction="none"), {"weight": t(weight), "reduction": "none"},
          logits, labels)

logp = F.log_softmax(randn(6, 5), dim=1)
loss_case("nll", lambda x, y: F.nll_loss(x, y.long()), {}, logp, labels)
loss_case("nll_weight", lambda x, y: F.nll_loss(x, y.long(), weight=weight), {"weight": t(weight)},
          logp, labels)
loss_case("nll_weight_none", lambda x, y: F.nll_loss(x, y.long(), weight=weight, reduction="none"),
          {"weight": t(weight), "reduction": "none"}, logp, labels)

# Differences spread over both sides of ±beta/±delta.
x, y = randn(4, 6) * 2, randn(4, 6)
loss_case("smooth_l1", lambda a, b: F.smooth_l1_loss(a, b), {}, x, y, True)
loss_case("smooth_l1_beta", lambda a, b: F.smooth_l1_loss(a, b, beta=0.5, reduction="sum"),
          {"beta": 0.5, "reduction": "sum"}, x, y, True)
loss_case("smooth_l1_l1", lambda a, b: F.smooth_l1_loss(a, b, beta=0.0), {"beta": 0.0}, x, y, True)
loss_case("huber", lambda a, b: F.huber_loss(a, b), {}, x, y, True)
loss_case("huber_delta_none", lambda a, b: F.huber_loss(a, b, delta=1.5, reduction="none"),
          {"delta": 1.5, "reduction": "none"}, x, y, True)

kx = F.log_softmax(randn(4, 6), dim=1)
kt = F.softmax(randn(4, 6), dim=1)
loss_case("kl_div", lambda a, b: F.kl_div(a, b, reduction="mean"), {}, kx, kt, True)
loss_case("kl_div_batchmean", lambda a, b: F.kl_div(a, b, reduction="batchmean"),
          {"reduction": "batchmean"}, kx, kt, True)
loss_case("kl_div_log_target_sum", lambda a, b: F.kl_div(a, b, reduction="sum", log_target=True),
          {"reduction": "sum", "log_target": True}, kx, kt.log(), True)

# ---------------------------------------------------------------------------------------
# Optimizers: the problem of scripts/fixtures_optim.py (its generator and gradients).

w0, b0, a, tt = problem()


def set_grads(params):
    set_problem_grads(params, a, tt)


OPTIMIZERS = [
    ("rmsprop", "RMSprop", {"lr": 0.01}),
    ("rmsprop_momentum_centered", "RMSprop",
     {"lr": 0.005, "alpha": 0.9, "eps": 1e-6, "momentum": 0.8, "centered": True, "weight_decay": 0.01}),
    ("rmsprop_centered", "RMSprop", {"lr": 0.01, "centered": True}),
    ("adagrad", "Adagrad", {"lr": 0.1}),
    ("adagrad_decay", "Adagrad", {"lr": 0.2, "lr_decay": 0.05, "weight_decay": 0.01, "eps": 1e-8}),
]
optimizers = []
for name, kind, options in OPTIMIZERS:
    w, b = w0.clone().requires_grad_(), b0.clone().requires_grad_()
    opt = getattr(torch.optim, kind)([w, b], foreach=False, **options)
    trajectory = []
    for _ in range(20):
        opt.zero_grad()
        set_grads([w, b])
        opt.step()
        trajectory.append(t(w)["data"] + t(b)["data"])
    optimizers.append({"name": name, "optimizer": kind, "options": options, "trajectory": trajectory})

# ---------------------------------------------------------------------------------------
# Gradient clipping: gradients after clipping and the returned total norm.

clips = []
for max_norm, norm_type in [(1.0, 2.0), (100.0, 2.0), (0.5, 1.0), (0.3, float("inf")), (2.0, 3.0)]:
    w, b = w0.clone().requires_grad_(), b0.clone().requires_grad_()
    set_grads([w, b])
    total = torch.nn.utils.clip_grad_norm_([w, b], max_norm, norm_type=norm_type)
    clips.append({"max_norm": max_norm, "norm_type": "inf" if norm_type == float("inf") else norm_type,
                  "total": float(total), "grads": t(w.grad)["data"] + t(b.grad)["data"]})
w, b = w0.clone().requires_grad_(), b0.clone().requires_grad_()
set_grads([w, b])
torch.nn.utils.clip_grad_value_([w, b], 0.4)
clip_value = {"value": 0.4, "grads": t(w.grad)["data"] + t(b.grad)["data"]}

# ---------------------------------------------------------------------------------------
# ReduceLROnPlateau: the lr after each step(metric).

metrics = [1.0, 0.9, 0.95, 0.92, 0.91, 0.905, 0.9, 0.89999, 0.85, 0.86, 0.87, 0.88, 0.86, 0.84,
           0.845, 0.85, 0.851, 0.852, 0.853, 0.80, 0.81, 0.82, 0.83, 0.84]
PLATEAUS = [
    ("plateau", {}),
    ("plateau_patience", {"patience": 2, "factor": 0.5}),
    ("plateau_cooldown", {"patience": 1, "factor": 0.5, "cooldown": 2, "min_lr": 0.02}),
    ("plateau_max_abs", {"mode": "max", "patience": 1, "threshold": 0.01, "threshold_mode": "abs"}),
    ("plateau_rel_threshold", {"patience": 0, "factor": 0.7, "threshold": 0.02}),
]
plateaus = []
for name, options in PLATEAUS:
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **options)
    lrs = []
    for m in metrics:
        sched.step(m)
        lrs.append(opt.param_groups[0]["lr"])
    plateaus.append({"name": name, "options": options, "lrs": lrs})

# ---------------------------------------------------------------------------------------
# Schedules: each group's lr after construction, then after each of n step() calls.

S = torch.optim.lr_scheduler


def lr_sequences(make, n, lrs=(0.1,)):
    params = [torch.zeros(1, requires_grad=True) for _ in lrs]
    opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)], lr=lrs[0])
    sched = make(opt)
    out = [[g["lr"] for g in opt.param_groups]]
    for _ in range(n):
        opt.step()
        sched.step()
        out.append([g["lr"] for g in opt.param_groups])
    return out


schedules = []


def schedule(name, options, make, n=12, lrs=(0.1,)):
    schedules.append({"name": name, "options": options, "lrs": list(lrs), "sequence": lr_sequences(make, n, lrs)})


schedule("exponential", {"gamma": 0.9}, lambda o: S.ExponentialLR(o, gamma=0.9))
schedule("linear_warmup", {"start_factor": 0.25, "total_iters": 4},
         lambda o: S.LinearLR(o, start_factor=0.25, total_iters=4), n=8)
schedule("linear_decay", {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 6},
         lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=6), n=9)
schedule("onecycle", {"max_lr": 1.0, "total_steps": 20},
         lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=20, cycle_momentum=False), n=19)
schedule("onecycle_linear", {"max_lr": 0.5, "total_steps": 16, "pct_start": 0.25, "anneal_strategy": "linear",
                             "div_factor": 10.0, "final_div_factor": 100.0},
         lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=16, pct_start=0.25, anneal_strategy="linear",
                                div_factor=10.0, final_div_factor=100.0, cycle_momentum=False), n=15)
schedule("onecycle_three_phase", {"max_lr": 0.2, "total_steps": 30, "three_phase": True},
         lambda o: S.OneCycleLR(o, max_lr=0.2, total_steps=30, three_phase=True, cycle_momentum=False), n=29)
schedule("sequential_linear_cosine",
         {"linear": {"start_factor": 0.1, "total_iters": 3}, "cosine": {"t_max": 8, "min_lr": 0.001},
          "milestones": [3]},
         lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=3),
                                      S.CosineAnnealingLR(o, T_max=8, eta_min=0.001)], milestones=[3]),
         n=14, lrs=(0.1, 0.03))
schedule("cosine_groups", {"t_max": 5, "min_lr": 0.001},
         lambda o: S.CosineAnnealingLR(o, T_max=5, eta_min=0.001), n=8, lrs=(0.1, 0.02))

cases["schedules"] = {"cases": schedules}

# ---------------------------------------------------------------------------------------
# EMA: AveragedModel(get_ema_multi_avg_fn(0.8)) updated after each of 6 SGD steps on the
# optimizer problem below; the averaged parameters after the last update.

from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn


class Pair(torch.nn.Module):
    def __init__(self, w, b):
        super().__init__()
        self.w = torch.nn.Parameter(w.clone())
        self.b = torch.nn.Parameter(b.clone())

pair = Pair(w0, b0)
ema = AveragedModel(pair, multi_avg_fn=get_ema_multi_avg_fn(0.8))
ema_opt = torch.optim.SGD(pair.parameters(), lr=0.05, momentum=0.9, foreach=False)
for _ in range(6):
    ema_opt.zero_grad()
    set_grads([pair.w, pair.b])
    ema_opt.step()
    ema.update_parameters(pair)
cases["ema"] = {"decay": 0.8, "steps": 6, "lr": 0.05, "momentum": 0.9,
                "averaged": t(ema.module.w)["data"] + t(ema.module.b)["data"],
                "trained": t(pair.w)["data"] + t(pair.b)["data"]}

cases["optimizers"] = {"w": t(w0)["data"], "b": t(b0)["data"], "a": t(a)["data"], "t": t(tt)["data"],
                       "cases": optimizers}
cases["clip_grad_norm"] = {"cases": clips}
cases["clip_grad_value"] = clip_value
cases["plateau"] = {"metrics": metrics, "lr": 0.1, "cases": plateaus}

with open(OUT, "w") as f:
    json.dump(cases, f, separators=(",", ":"))
    f.write("\n")
print("wrote", OUT, len(cases), "entries")
