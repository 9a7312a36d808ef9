"""PyTorch reference fixtures for the pieces airbench94's CIFAR-10 speedrun needs
(KellerJordan/cifar10-airbench, legacy/airbench94.py).

Run from the repository root:  /work/main/.venv-bench/bin/python scripts/fixtures_speedrun.py
Writes Tests/MoonlabTensorTests/Fixtures/linalg_fixtures.json (torch.linalg.eigh, read by
EighTests) and Tests/MoonlabNNTests/Fixtures/speedrun_fixtures.json (dirac_, the whitening
init, LookaheadState, LambdaLR, label-smoothed summed cross-entropy and SGD with frozen
parameters, read by SpeedrunFixtureTests).
"""

import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(__file__), "..")
gen = torch.Generator().manual_seed(94)


def t(x):
    return {"shape": list(x.shape), "data": [float(v) for v in x.detach().reshape(-1).tolist()]}


def randn(*shape):
    return torch.randn(*shape, generator=gen)


# ---------------------------------------------------------------------------------------
# eigh (float64 reference of float32 inputs)

linalg = {}


def eigh_case(name, a):
    a = a.float()
    values, vectors = torch.linalg.eigh(a.double())
    linalg[name] = {"input": t(a), "values": t(values), "vectors": t(vectors)}


m = randn(6, 6)
eigh_case("eigh_symmetric6", (m + m.T) / 2)
p = randn(200, 27)
eigh_case("eigh_covariance27", p.T @ p / 200)
eigh_case("eigh_diagonal3", torch.diag(torch.tensor([3.0, -1.0, 2.0])))

# ---------------------------------------------------------------------------------------
# nn pieces

cases = {}

for shape in [(6, 4, 3, 3), (3, 5, 4), (2, 3, 3, 2, 3)]:
    w = randn(*shape)
    nn.init.dirac_(w)
    cases["dirac_" + "x".join(map(str, shape))] = {"output": t(w)}


# airbench94's whitening init, verbatim.
def get_patches(x, patch_shape):
    c, (h, w) = x.shape[1], patch_shape
    return x.unfold(2, h, 1).unfold(3, w, 1).transpose(1, 3).reshape(-1, c, h, w).float()


def get_whitening_parameters(patches):
    n, c, h, w = patches.shape
    patches_flat = patches.view(n, -1)
    est_patch_covariance = (patches_flat.T @ patches_flat) / n
    eigenvalues, eigenvectors = torch.linalg.eigh(est_patch_covariance, UPLO="U")
    return eigenvalues.flip(0).view(-1, 1, 1, 1), eigenvectors.T.reshape(c * h * w, c, h, w).flip(0)


def init_whitening_conv(layer, train_set, eps=5e-4):
    patches = get_patches(train_set, patch_shape=layer.weight.data.shape[2:])
    eigenvalues, eigenvectors = get_whitening_parameters(patches)
    eigenvectors_scaled = eigenvectors / torch.sqrt(eigenvalues + eps)
    layer.weight.data[:] = torch.cat((eigenvectors_scaled, -eigenvectors_scaled))


for name, (n, c, hw, k, eps) in {"whitening_k2": (6, 3, 7, 2, 5e-4),
                                 "whitening_k3_eps": (5, 2, 6, 3, 1e-2)}.items():
    images = randn(n, c, hw, hw) * 0.5 + 0.2
    conv = nn.Conv2d(c, 2 * c * k * k, k, padding=0, bias=True)
    init_whitening_conv(conv, images, eps=eps)
    cases[name] = {"images": t(images), "kernel": k, "eps": eps, "weight": t(conv.weight)}


# airbench94's LookaheadState, verbatim, on Linear + BatchNorm1d.
class LookaheadState:
    def __init__(self, net):
        self.net_ema = {k: v.clone() for k, v in net.state_dict().items()}

    def update(self, net, decay):
        for ema_param, net_param in zip(self.net_ema.values(), net.state_dict().values()):
            if net_param.dtype in (torch.half, torch.float):
                ema_param.lerp_(net_param, 1 - decay)
                net_param.copy_(ema_param)


net = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
with torch.no_grad():
    for v in net.state_dict().values():
        if v.dtype == torch.float:
            v.copy_(randn(*v.shape))
    net[1].running_var.abs_()
initial = {k: t(v) for k, v in net.state_dict().items() if v.dtype == torch.float}
la = LookaheadState(net)
steps = []
for decay in [0.95 ** 5, 0.5, 0.0, 1.0, 0.9]:
    with torch.no_grad():  # what training would have done to the weights in between
        for v in net.state_dict().values():
            if v.dtype == torch.float:
                v.add_(randn(*v.shape) * 0.3)
    before = {k: t(v) for k, v in net.state_dict().items() if v.dtype == torch.float}
    la.update(net, decay)
    after = {k: t(v) for k, v in net.state_dict().items() if v.dtype == torch.float}
    steps.append({"decay": decay, "before": before, "after": after})
cases["lookahead"] = {"initial": initial, "steps": steps}

# LambdaLR with airbench94's schedule: 0.2 -> 1 over 23 % of T steps, then -> 0.07 at T.
T = 40


def airbench_lr(step):
    warmup_steps = int(T * 0.23)
    warmdown_steps = T - warmup_steps
    if step < warmup_steps:
        frac = step / warmup_steps
        return 0.2 * (1 - frac) + 1.0 * frac
    frac = (step - warmup_steps) / warmdown_steps
    return 1.0 * (1 - frac) + 0.07 * frac


params = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
opt = torch.optim.SGD([{"params": [params[0]], "lr": 0.1}, {"params": [params[1]], "lr": 0.02}],
                      lr=0.5, momentum=0.9)
sched = torch.optim.lr_scheduler.LambdaLR(opt, airbench_lr)
lrs = [[g["lr"] for g in opt.param_groups]]
for _ in range(T):
    opt.step()
    sched.step()
    lrs.append([g["lr"] for g in opt.param_groups])
cases["lambda_lr_airbench"] = {"total_steps": T, "base_lrs": [0.1, 0.02], "lrs": lrs}

# CrossEntropyLoss(label_smoothing=0.2, reduction='sum'), airbench's loss.
logits = (randn(8, 10) * 2).requires_grad_()
labels = torch.tensor([0, 3, 9, 1, 3, 2, 7, 7])
loss = F.cross_entropy(logits, labels, label_smoothing=0.2, reduction="sum")
loss.backward()
cases["ce_smoothing02_sum"] = {"logits": t(logits), "labels": labels.tolist(), "loss": loss.item(),
                               "grad": t(logits.grad)}

# SGD (nesterov, two groups) with parameters frozen and unfrozen between steps; grads set
# to None by zero_grad, so a frozen parameter is skipped (no weight decay, no momentum).
model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(),
                      nn.Linear(3 * 4 * 4, 5))
with torch.no_grad():
    model[1].weight.copy_(1 + 0.2 * randn(3))
    model[1].bias.copy_(0.1 * randn(3))
start = {k: t(v) for k, v in model.state_dict().items() if v.dtype == torch.float}
x = randn(6, 2, 4, 4)
y = torch.tensor([0, 1, 2, 3, 4, 1])
conv, bn, lin = model[0], model[1], model[4]
opt = torch.optim.SGD([
    {"params": [conv.weight, conv.bias, bn.weight, bn.bias], "lr": 0.1, "weight_decay": 5e-4},
    {"params": [lin.weight, lin.bias], "lr": 0.05, "weight_decay": 0}],
    lr=0.01, momentum=0.9, nesterov=True)
# Which of conv.weight, conv.bias, bn.weight train at each step.
plan = [[True, True, False], [True, True, False], [False, False, True], [False, True, True],
        [True, False, True], [True, True, True]]
losses = []
for trains in plan:
    for p_, on in zip([conv.weight, conv.bias, bn.weight], trains):
        p_.requires_grad_(on)
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(x), y, label_smoothing=0.2, reduction="sum")
    loss.backward()
    opt.step()
    losses.append(loss.item())
cases["sgd_frozen"] = {"start": start, "x": t(x), "labels": y.tolist(), "plan": plan,
                       "losses": losses,
                       "end": {k: t(v) for k, v in model.state_dict().items()
                               if v.dtype == torch.float}}

for path, data in [(os.path.join(ROOT, "Tests", "MoonlabTensorTests", "Fixtures",
                                  "linalg_fixtures.json"), linalg),
                   (os.path.join(ROOT, "Tests", "MoonlabNNTests", "Fixtures",
                                  "speedrun_fixtures.json"), cases)]:
    with open(path, "w") as f:
        json.dump(data, f, separators=(",", ":"))
    print("wrote", path, len(data), "entries")
