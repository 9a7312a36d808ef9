"""PyTorch reference values for the layers of issue 14 (run once, output committed):
activations, Embedding, LayerNorm, GroupNorm, AdaptiveAvgPool2d, Upsample, Conv1d,
ConvTranspose2d, LSTM and GRU, in
Tests/MoonlabNNTests/Fixtures/layer_fixtures.json.

    /work/main/.venv-bench/bin/python scripts/fixtures_layers.py   (pip install torch numpy)

Single-output cases have the shape of scripts/fixtures_nn.py's module cases (params,
inputs, grad_output, output, grad_input, grads). Recurrent cases also give initial
states and get back the output sequence and final states: "outputs", "grad_outputs"
(one per output; backward of Σ outputs·grad_outputs), "states", "grad_states".
"""
import json
import os

import torch
import torch.nn as nn

torch.manual_seed(14)
FIXTURES = os.path.join(os.path.dirname(__file__), "..", "Tests", "MoonlabNNTests", "Fixtures")


def t(x):
    x = x.detach().to(torch.float32)
    return {"shape": list(x.shape), "data": [float(str(v)) for v in x.reshape(-1).numpy()]}


def module_case(m, x, integer_input=False):
    x = x.clone()
    if not integer_input:
        x.requires_grad_(True)
    out = m(x.long() if integer_input else x)
    g = torch.randn_like(out)
    (out * g).sum().backward()
    case = {
        "params": {k: t(v) for k, v in m.named_parameters()},
        "inputs": [t(x)],
        "grad_output": t(g),
        "output": t(out),
        "grads": {k: t(v.grad) for k, v in m.named_parameters()},
    }
    if not integer_input:
        case["grad_input"] = t(x.grad)
    return case


def recurrent_case(m, x, states):
    x = x.clone().requires_grad_(True)
    states = [s.clone().requires_grad_(True) for s in states]
    if isinstance(m, nn.LSTM):
        out, (h, c) = m(x, tuple(states)) if states else m(x)
        outputs = [out, h, c]
    else:
        out, h = m(x, states[0]) if states else m(x)
        outputs = [out, h]
    grads = [torch.randn_like(o) for o in outputs]
    sum((o * g).sum() for o, g in zip(outputs, grads)).backward()
    return {
        "params": {k: t(v) for k, v in m.named_parameters()},
        "inputs": [t(x)],
        "states": [t(s) for s in states],
        "outputs": [t(o) for o in outputs],
        "grad_outputs": [t(g) for g in grads],
        "grad_input": t(x.grad),
        "grad_states": [t(s.grad) for s in states],
        "grads": {k: t(v.grad) for k, v in m.named_parameters()},
    }


cases = {}
cases["gelu"] = module_case(nn.GELU(), torch.randn(3, 5) * 2)
cases["gelu_tanh"] = module_case(nn.GELU(approximate="tanh"), torch.randn(3, 5) * 2)
cases["silu"] = module_case(nn.SiLU(), torch.randn(3, 5) * 2)
cases["leaky_relu"] = module_case(nn.LeakyReLU(0.2), torch.randn(3, 5))
cases["elu"] = module_case(nn.ELU(0.7), torch.randn(3, 5) * 2)
# beta·x crosses the threshold for some inputs: both regions are checked.
cases["softplus"] = module_case(nn.Softplus(beta=2, threshold=3), torch.randn(3, 5) * 2)
cases["log_softmax"] = module_case(nn.LogSoftmax(dim=1), torch.randn(2, 4, 3))

emb = nn.Embedding(7, 4, padding_idx=2)
cases["embedding"] = module_case(emb, torch.tensor([[0.0, 2.0, 5.0], [5.0, 6.0, 2.0]]), integer_input=True)

ln = nn.LayerNorm(5)
with torch.no_grad():
    ln.weight.uniform_(0.5, 1.5)
    ln.bias.uniform_(-0.5, 0.5)
cases["layer_norm"] = module_case(ln, torch.randn(3, 5) * 3 + 2)
ln2 = nn.LayerNorm([3, 4])
with torch.no_grad():
    ln2.weight.uniform_(0.5, 1.5)
    ln2.bias.uniform_(-0.5, 0.5)
cases["layer_norm_2d"] = module_case(ln2, torch.randn(2, 3, 4))
cases["layer_norm_no_affine"] = module_case(nn.LayerNorm(6, elementwise_affine=False), torch.randn(4, 6))

gn = nn.GroupNorm(2, 4)
with torch.no_grad():
    gn.weight.uniform_(0.5, 1.5)
    gn.bias.uniform_(-0.5, 0.5)
cases["group_norm"] = module_case(gn, torch.randn(2, 4, 3, 3) * 2 + 1)
cases["group_norm_no_affine"] = module_case(nn.GroupNorm(3, 6, affine=False), torch.randn(3, 6, 5))
cases["adaptive_avg_pool"] = module_case(nn.AdaptiveAvgPool2d((3, 4)), torch.randn(2, 3, 5, 7))
cases["adaptive_avg_pool_1x1"] = module_case(nn.AdaptiveAvgPool2d(1), torch.randn(2, 3, 4, 4))
cases["upsample2"] = module_case(nn.Upsample(scale_factor=2, mode="nearest"), torch.randn(2, 3, 3, 4))
cases["upsample1_5"] = module_case(nn.Upsample(scale_factor=1.5, mode="nearest"), torch.randn(1, 2, 3, 5))

cases["conv1d"] = module_case(nn.Conv1d(3, 4, 3), torch.randn(2, 3, 9))
cases["conv1d_s2p2_k5"] = module_case(nn.Conv1d(2, 5, 5, stride=2, padding=2), torch.randn(3, 2, 11))
cases["conv1d_k1_nobias"] = module_case(nn.Conv1d(4, 3, 1, bias=False), torch.randn(2, 4, 6))
# 3 output channels, a long row: the shape DirectConv would take if it were square.
cases["conv1d_long"] = module_case(nn.Conv1d(2, 3, 3), torch.randn(2, 2, 40))

cases["conv_transpose_s2p1op1"] = module_case(
    nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1), torch.randn(2, 3, 4, 5))
# The matching Conv2d (8 -> 8, 3x3, stride 1, padding 1) runs Winograd.
cases["conv_transpose_winograd"] = module_case(
    nn.ConvTranspose2d(8, 8, 3, padding=1), torch.randn(2, 8, 6, 6))
cases["conv_transpose_k2s2_nobias"] = module_case(
    nn.ConvTranspose2d(2, 3, 2, stride=2, bias=False), torch.randn(2, 2, 3, 3))

cases["lstm"] = recurrent_case(nn.LSTM(4, 6), torch.randn(5, 3, 4), [])
cases["lstm_2layer_batch_first"] = recurrent_case(
    nn.LSTM(3, 5, num_layers=2, batch_first=True), torch.randn(2, 4, 3),
    [torch.randn(2, 2, 5), torch.randn(2, 2, 5)])
cases["gru"] = recurrent_case(nn.GRU(4, 6), torch.randn(5, 3, 4), [])
cases["gru_2layer_batch_first"] = recurrent_case(
    nn.GRU(3, 5, num_layers=2, batch_first=True), torch.randn(2, 4, 3), [torch.randn(2, 2, 5)])

out = os.path.join(FIXTURES, "layer_fixtures.json")
with open(out, "w") as f:
    json.dump(cases, f, separators=(",", ":"))
print(f"wrote {len(cases)} cases to {os.path.normpath(out)} ({os.path.getsize(out)} bytes)")
