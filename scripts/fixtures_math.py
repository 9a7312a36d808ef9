"""Reference values for the math ops of issue 14: comparisons, rounding, clamp, reductions
over a dimension (with indices), statistics, sort/topk, cumsum and range factories.

Writes Tests/MoonlabTensorTests/Fixtures/math_fixtures.json. Each case names an op and its
parameters, float32 inputs, PyTorch's outputs (values, then indices for ops returning
both) and, for differentiable ops, a gradient for the first output and the inputs'
gradients. References are computed in float64 from the same float32 inputs, so they add
no rounding of their own. Dimensions in the file are 0-based (the Swift API's); indices
are 0-based; p = "inf" is the max norm. Inputs avoid ties where an op's gradient
or indices would depend on them.
Run with the project's PyTorch:

    /work/main/.venv-bench/bin/python scripts/fixtures_math.py
"""

import json
import math
import os

import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "MoonlabTensorTests", "Fixtures", "math_fixtures.json")

torch.manual_seed(14)
cases = []


def values(t):
    return {"shape": list(t.shape), "values": [float(x) for x in t.detach().double().reshape(-1).tolist()]}


def distinct(*shape):
    """Standard normal float32 values with no ties (ties make indices ambiguous)."""
    n = math.prod(shape)
    return ((torch.randperm(n).float() + torch.rand(n) * 0.5) / n * 4 - 2).reshape(shape)


def positive(*shape):
    return torch.rand(shape) + 0.5


def add(name, op, inputs, fn, differentiable=True, **params):
    """Runs fn on float64 leaves; the first output gets a random gradient."""
    leaves = [x.double().requires_grad_(differentiable) for x in inputs]
    out = fn(*leaves)
    outs = list(out) if isinstance(out, tuple) else [out]
    case = {"name": name, "op": op, "params": params, "inputs": [values(x) for x in inputs],
            "outputs": [values(o) for o in outs]}
    if differentiable:
        g = torch.randn(outs[0].shape, dtype=torch.float64)
        outs[0].backward(g)
        case["grad_output"] = values(g)
        case["grads"] = [values(x.grad if x.grad is not None else torch.zeros_like(x)) for x in leaves]
    cases.append(case)


# Comparisons, with broadcasting; small integers so equality happens.
a = torch.randint(-2, 3, (2, 3, 4)).float()
b = torch.randint(-2, 3, (3, 1)).float()
for op in ["eq", "ne", "lt", "le", "gt", "ge"]:
    add(f"{op} broadcast", op, [a, b], lambda x, y, op=op: getattr(x, op)(y).double(), differentiable=False)
    add(f"{op} scalar", op, [a, torch.tensor(0.0)], lambda x, y, op=op: getattr(x, op)(y).double(), differentiable=False)

# Elementwise, with gradients.
x = torch.randn(3, 5) * 2
x[0, :] = torch.tensor([0.5, 1.5, 2.5, -0.5, -2.5])  # round half to even
add("floor", "floor", [x], lambda t: t.floor())
add("ceil", "ceil", [x], lambda t: t.ceil())
add("round", "round", [x], lambda t: t.round())
add("sign", "sign", [torch.cat([x, torch.zeros(1, 5)])], lambda t: t.sign())
add("abs", "abs", [x], lambda t: t.abs())
add("clamp both", "clamp", [x], lambda t: t.clamp(-1, 1), min=-1.0, max=1.0)
add("clamp min", "clamp", [x], lambda t: t.clamp(min=-0.5), min=-0.5)
add("clamp max", "clamp", [x], lambda t: t.clamp(max=0.3), max=0.3)
p = positive(4, 3)
add("sqrt", "sqrt", [p], lambda t: t.sqrt())
add("log1p", "log1p", [p - 0.9], lambda t: t.log1p())
add("pow 3", "pow", [x], lambda t: t.pow(3), p=3.0)
add("pow 0.5", "pow", [p], lambda t: t.pow(0.5), p=0.5)
add("pow tensor exponent", "pow", [p, torch.randn(3)], lambda t, e: t.pow(e))
base = torch.rand(2, 1, 3)
base[0, 0, :2] = 0  # 0² and 0⁰: PyTorch's zero gradients where the formulas give 0·∞
add("pow tensor base broadcast", "pow", [base, torch.tensor([[2.0, 0.0, 1.5], [0.0, 2.0, 4.0]])], lambda t, e: t.pow(e))

# Reductions over a dimension (and whole-tensor forms).
r = distinct(2, 3, 4)
for dim in [0, 1, 2]:
    for keep in [False, True]:
        k = {"dim": dim, "keepdim": keep}
        add(f"max dim {dim} keep {keep}", "max", [r], lambda t: t.max(dim, keepdim=keep), **k)
        add(f"min dim {dim} keep {keep}", "min", [r], lambda t: t.min(dim, keepdim=keep), **k)
        add(f"sum dim {dim} keep {keep}", "sum", [r], lambda t: t.sum(dim, keepdim=keep), **k)
        add(f"mean dim {dim} keep {keep}", "mean", [r], lambda t: t.mean(dim, keepdim=keep), **k)
        add(f"var dim {dim} keep {keep}", "var", [r], lambda t: t.var(dim, keepdim=keep), correction=1, **k)
        add(f"std dim {dim} keep {keep}", "std", [r], lambda t: t.std(dim, keepdim=keep), correction=1, **k)
        add(f"prod dim {dim} keep {keep}", "prod", [r], lambda t: t.prod(dim, keepdim=keep), **k)
    add(f"argmax dim {dim}", "argmax", [r], lambda t: t.argmax(dim).double(), differentiable=False, dim=dim)
    add(f"argmin dim {dim}", "argmin", [r], lambda t: t.argmin(dim).double(), differentiable=False, dim=dim)
    add(f"var biased dim {dim}", "var", [r], lambda t: t.var(dim, correction=0), correction=0, dim=dim)
    add(f"std biased dim {dim}", "std", [r], lambda t: t.std(dim, unbiased=False), correction=0, dim=dim)
    add(f"cumsum dim {dim}", "cumsum", [r], lambda t: t.cumsum(dim), dim=dim)
    for pn in [1.0, 2.0, 3.0, math.inf]:
        add(f"norm p {pn} dim {dim}", "norm", [r], lambda t: t.norm(pn, dim), p=pn if pn != math.inf else "inf", dim=dim)
    add(f"sort dim {dim}", "sort", [r], lambda t: (lambda s: (s.values, s.indices.double()))(t.sort(dim)), dim=dim, descending=False)
    add(f"sort descending dim {dim}", "sort", [r], lambda t: (lambda s: (s.values, s.indices.double()))(t.sort(dim, descending=True)), dim=dim, descending=True)
    add(f"topk 2 largest dim {dim}", "topk", [r], lambda t: (lambda s: (s.values, s.indices.double()))(t.topk(2, dim)), k=2, dim=dim, largest=True)
    add(f"topk 2 smallest dim {dim}", "topk", [r], lambda t: (lambda s: (s.values, s.indices.double()))(t.topk(2, dim, largest=False)), k=2, dim=dim, largest=False)
withzero = r.clone()
withzero[0, 1, 2] = 0
add("prod with a zero dim 1", "prod", [withzero], lambda t: t.prod(1), dim=1, keepdim=False)
add("prod with a zero", "prod", [withzero], lambda t: t.prod())
add("max all", "max", [r], lambda t: t.max())
add("min all", "min", [r], lambda t: t.min())
add("var all", "var", [r], lambda t: t.var(), correction=1)
add("var all biased", "var", [r], lambda t: t.var(unbiased=False), correction=0)
add("std all", "std", [r], lambda t: t.std(), correction=1)
add("prod all", "prod", [positive(2, 3)], lambda t: t.prod())
for pn in [1.0, 2.0, 3.0, math.inf]:
    add(f"norm p {pn}", "norm", [r], lambda t: t.norm(pn), p=pn if pn != math.inf else "inf")
mask = (torch.rand(3, 4) > 0.6).float()
mask[0] = 1
mask[1] = 0
for dim in [0, 1]:
    add(f"any dim {dim}", "any", [mask], lambda t: t.bool().any(dim).double(), differentiable=False, dim=dim)
    add(f"all dim {dim}", "all", [mask], lambda t: t.bool().all(dim).double(), differentiable=False, dim=dim)
add("any all", "any", [mask], lambda t: t.bool().any().double(), differentiable=False)
add("all all", "all", [mask], lambda t: t.bool().all().double(), differentiable=False)

# Range factories: the values PyTorch makes in float32.
for start, end, step in [(0, 5, 1), (1, 2.5, 0.5), (5, -1, -1.5), (-1, 1, 0.3), (0, 1, 0.1), (2, 2, 1)]:
    cases.append({"name": f"arange {start} {end} {step}", "op": "arange", "params": {"start": start, "end": end, "step": step},
                  "inputs": [], "outputs": [values(torch.arange(start, end, step, dtype=torch.float32))]})
for start, end, steps in [(0, 1, 5), (-3, 7, 11), (2, -1, 4), (1, 1, 1), (0, 10, 0), (0.1, 0.7, 7)]:
    cases.append({"name": f"linspace {start} {end} {steps}", "op": "linspace", "params": {"start": start, "end": end, "steps": steps},
                  "inputs": [], "outputs": [values(torch.linspace(start, end, steps, dtype=torch.float32))]})
for n, m in [(3, 3), (2, 4), (4, 2), (0, 3)]:
    cases.append({"name": f"eye {n} {m}", "op": "eye", "params": {"n": n, "m": m},
                  "inputs": [], "outputs": [values(torch.eye(n, m))]})

with open(OUT, "w") as f:
    json.dump({"generator": "scripts/fixtures_math.py", "torch": torch.__version__, "cases": cases}, f)
print(f"{len(cases)} cases -> {os.path.normpath(OUT)}")
