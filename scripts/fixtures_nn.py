"""PyTorch reference values for Tests/MoonlabNNTests (run once, output committed).

    /work/torchvenv/bin/python scripts/fixtures_nn.py

Each case fixes a module's parameters (PyTorch's own init, seeded), feeds one or more
inputs (train-mode BatchNorm sees several batches so running statistics move), and for
the last input records the output, and after backward of sum(output * grad_output), the
gradients of the input and of every parameter, plus buffers. Names are PyTorch's
state_dict names, which the Swift modules use too.
"""
import json
import os

import torch
import torch.nn as nn

torch.manual_seed(0)
OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "MoonlabNNTests", "Fixtures", "nn_fixtures.json")


def t(x):
    x = x.detach().to(torch.float32)
    return {"shape": list(x.shape), "data": [float(v) for v in x.reshape(-1).tolist()]}


def module_case(m, inputs, train=True):
    m.train(train)
    x = None
    out = None
    for x in inputs:
        x = x.clone().requires_grad_(True)
        m.zero_grad()
        out = m(x)
    g = torch.randn_like(out)
    (out * g).sum().backward()
    return {
        "params": {k: t(v) for k, v in m.named_parameters()},
        "inputs": [t(v) for v in inputs],
        "grad_output": t(g),
        "output": t(out),
        "grad_input": t(x.grad),
        "grads": {k: t(v.grad) for k, v in m.named_parameters()},
        "buffers": {k: t(v) for k, v in m.named_buffers()},
    }


def loss_case(loss, x, target):
    x = x.clone().requires_grad_(True)
    out = loss(x, target)
    out.backward()
    return {"inputs": [t(x)], "target": t(target), "output": t(out), "grad_input": t(x.grad)}


cases = {}
cases["linear"] = module_case(nn.Linear(5, 4), [torch.randn(3, 5)])
cases["linear_nobias_3d"] = module_case(nn.Linear(4, 3, bias=False), [torch.randn(2, 3, 4)])
cases["conv"] = module_case(nn.Conv2d(3, 4, 3), [torch.randn(2, 3, 7, 6)])
cases["conv_s2p1"] = module_case(nn.Conv2d(3, 4, 3, stride=2, padding=1), [torch.randn(2, 3, 7, 7)])
cases["conv_s2p2_k5"] = module_case(nn.Conv2d(2, 3, 5, stride=2, padding=2), [torch.randn(3, 2, 8, 9)])
cases["maxpool2"] = module_case(nn.MaxPool2d(2), [torch.randn(2, 3, 6, 6)])
cases["maxpool3s2"] = module_case(nn.MaxPool2d(3, stride=2), [torch.randn(2, 2, 7, 8)])
cases["avgpool2"] = module_case(nn.AvgPool2d(2), [torch.randn(2, 3, 6, 6)])
cases["avgpool3s2"] = module_case(nn.AvgPool2d(3, stride=2), [torch.randn(2, 2, 7, 8)])

# BatchNorm: three training batches (running stats move), then eval with those stats.
for name, make, shape in [("bn2d", lambda: nn.BatchNorm2d(3), (4, 3, 5, 5)), ("bn1d", lambda: nn.BatchNorm1d(4), (8, 4))]:
    bn = make()
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
    start = {k: t(v) for k, v in bn.named_parameters()}
    case = module_case(bn, [torch.randn(*shape) * 2 + 1 for _ in range(3)], train=True)
    case["params"] = start
    cases[name + "_train"] = case
    eval_case = module_case(bn, [torch.randn(*shape) * 2 + 1], train=False)
    eval_case["params"] = start
    eval_case["buffers_before"] = case["buffers"]
    cases[name + "_eval"] = eval_case

cases["relu"] = module_case(nn.ReLU(), [torch.randn(3, 4)])
cases["sigmoid"] = module_case(nn.Sigmoid(), [torch.randn(3, 4)])
cases["tanh"] = module_case(nn.Tanh(), [torch.randn(3, 4)])
cases["softmax"] = module_case(nn.Softmax(dim=1), [torch.randn(3, 4)])
cases["flatten"] = module_case(nn.Flatten(), [torch.randn(2, 3, 2, 2)])


class RNNOut(nn.Module):
    """nn.RNN returning only the per-step outputs, as Moonlab's RNN does."""

    def __init__(self, *a, **k):
        super().__init__()
        self.rnn = nn.RNN(*a, **k)

    def forward(self, x):
        return self.rnn(x)[0]


for nl in ["tanh", "relu"]:
    c = module_case(RNNOut(4, 6, nonlinearity=nl), [torch.randn(5, 3, 4)])
    for key in ["params", "grads"]:
        c[key] = {k.removeprefix("rnn."): v for k, v in c[key].items()}
    cases["rnn_" + nl] = c

seq = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(12, 5))
cases["sequential"] = module_case(seq, [torch.randn(2, 2, 4, 4)])

cases["bce"] = loss_case(nn.BCELoss(), torch.rand(3, 4) * 0.98 + 0.01, torch.rand(3, 4))
cases["bce_logits"] = loss_case(nn.BCEWithLogitsLoss(), torch.randn(3, 4) * 4, torch.rand(3, 4))
cases["mse"] = loss_case(nn.MSELoss(), torch.randn(3, 4), torch.randn(3, 4))
# CrossEntropyLoss wants integer targets in PyTorch; the fixture stores them as floats.
x = torch.randn(4, 5) * 3
cases["cross_entropy"] = loss_case(lambda a, b: nn.functional.cross_entropy(a, b.long()), x, torch.tensor([0.0, 4.0, 2.0, 2.0]))

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump(cases, f, separators=(",", ":"))
print(f"wrote {len(cases)} cases to {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes)")
