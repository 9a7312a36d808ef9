"""PyTorch reference values for Tests/MoonlabNNTests (run once, output committed): every
module in nn_fixtures.json, and the 3×3 / 1×1 convolution + BatchNorm (+ReLU, +residual)
blocks of VGG and ResNet nets in conv_bn_fixtures.json.

    .venv-bench/bin/python scripts/fixtures_nn.py   (pip install torch numpy)

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
FIXTURES = os.path.join(os.path.dirname(__file__), "..", "Tests", "MoonlabNNTests", "Fixtures")


def t(x):
    # str() of a numpy float32 is its shortest round-trip digits: the same values, a third the text.
    x = x.detach().to(torch.float32)
    return {"shape": list(x.shape), "data": [float(str(v)) for v in x.reshape(-1).numpy()]}


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



def write(cases, name):
    out = os.path.join(FIXTURES, name)
    os.makedirs(FIXTURES, exist_ok=True)
    with open(out, "w") as f:
        json.dump(cases, f, separators=(",", ":"))
    print(f"wrote {len(cases)} cases to {os.path.normpath(out)} ({os.path.getsize(out)} bytes)")


write(cases, "nn_fixtures.json")


# Convolution + BatchNorm blocks of VGG and ResNet nets: sizes that are not multiples of
# any tile (odd H, W and channel counts) and big enough for the fast convolution paths.
torch.manual_seed(1)


class Residual(nn.Module):
    """Moonlab's nn.Residual: block(x) + shortcut(x), children named block and shortcut."""

    def __init__(self, block, shortcut=None):
        super().__init__()
        self.block = block
        if shortcut is not None:
            self.shortcut = shortcut

    def forward(self, x):
        return self.block(x) + (self.shortcut(x) if hasattr(self, "shortcut") else x)


def conv_bn(cin, cout, k, stride, relu=True):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout)]
    return layers + ([nn.ReLU()] if relu else [])


def randomise_bn(m):
    with torch.no_grad():
        for bn in m.modules():
            if isinstance(bn, nn.BatchNorm2d):
                bn.weight.uniform_(0.5, 1.5)
                bn.bias.uniform_(-0.5, 0.5)
    return m


def train_then_eval(cases, name, m, shape):
    """Two training batches (running statistics move), then eval with those statistics."""
    randomise_bn(m)
    start = {k: t(v) for k, v in m.named_parameters()}
    case = module_case(m, [torch.randn(*shape) for _ in range(2)], train=True)
    case["params"] = start
    cases[name + "_train"] = case
    eval_case = module_case(m, [torch.randn(*shape)], train=False)
    eval_case["params"] = start
    eval_case["buffers_before"] = case["buffers"]
    cases[name + "_eval"] = eval_case


conv_cases = {}
train_then_eval(conv_cases, "conv3x3_bn_relu", nn.Sequential(*conv_bn(5, 8, 3, 1)), (3, 5, 9, 10))
train_then_eval(conv_cases, "conv3x3_s2_bn_relu", nn.Sequential(*conv_bn(6, 16, 3, 2)), (2, 6, 11, 12))
train_then_eval(conv_cases, "conv1x1_s2_bn", nn.Sequential(*conv_bn(8, 16, 1, 2, relu=False)), (2, 8, 9, 10))
conv_cases["conv3x3_bias_wide"] = module_case(nn.Conv2d(16, 24, 3, padding=1), [torch.randn(2, 16, 13, 11)])
train_then_eval(
    conv_cases, "basic_block",
    nn.Sequential(Residual(nn.Sequential(*conv_bn(16, 16, 3, 1), *conv_bn(16, 16, 3, 1, relu=False))), nn.ReLU()),
    (2, 16, 8, 8))
train_then_eval(
    conv_cases, "basic_block_down",
    nn.Sequential(
        Residual(nn.Sequential(*conv_bn(8, 16, 3, 2), *conv_bn(16, 16, 3, 1, relu=False)),
                 nn.Sequential(*conv_bn(8, 16, 1, 2, relu=False))),
        nn.ReLU()),
    (2, 8, 10, 9))
write(conv_cases, "conv_bn_fixtures.json")
