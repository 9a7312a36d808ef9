"""Reference outputs and gradients for random chains of tensor ops (issue 3, item 3).

Writes Tests/MoonlabTensorTests/Fixtures/tensor_chains.json. Each case lists float32
inputs, a chain of ops (each naming its operands: "x<k>" input k, "v<k>" result of op k),
a gradient for the last result, and PyTorch's output and input gradients, computed in
float64 from the same float32 inputs so the reference itself adds no rounding.
Dimensions in the file are 0-based (the Swift API's). Run with the project venv:

    /work/torchvenv/bin/python scripts/fixtures_tensor.py
"""

import json
import os
import random

import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "MoonlabTensorTests", "Fixtures", "tensor_chains.json")
CASES = 60


class Chain:
    def __init__(self, rng):
        self.rng = rng
        self.inputs = []  # float32 tensors
        self.values = []  # (name, float64 tensor, tie_free, positive)
        self.ops = []

    def new_input(self, shape, positive=False):
        x = torch.randn(shape, dtype=torch.float32)
        if positive:
            x = torch.rand(shape, dtype=torch.float32) + 0.5
        name = f"x{len(self.inputs)}"
        self.inputs.append(x)
        leaf = x.double().requires_grad_()
        self.leaves.append(leaf)
        self.values.append((name, leaf, True, positive))
        return self.values[-1]

    def apply(self, op, args, result, tie_free=False, positive=False, **params):
        self.ops.append({"op": op, "args": [a[0] for a in args], **params})
        self.values.append((f"v{len(self.ops) - 1}", result, tie_free, positive))
        return self.values[-1]

    def random_shape(self, rank=None):
        rank = self.rng.randint(1, 3) if rank is None else rank
        return [self.rng.randint(1, 4) for _ in range(rank)]

    def broadcast_partner(self, shape):
        """A shape that broadcasts against `shape`: some sizes set to 1, leading ones dropped."""
        if not shape:
            return self.random_shape()
        partner = [1 if self.rng.random() < 0.4 else d for d in shape]
        drop = self.rng.randint(0, len(shape) - 1)
        return partner[drop:]

    def step(self):
        rng = self.rng
        name, v, tie_free, positive = self.values[-1]
        shape = list(v.shape)
        rank = len(shape)
        choices = ["unary", "scalar", "binary", "pow"]
        if rank >= 1:
            choices += ["reduce", "softmax", "reshape"]
        if rank == 2:
            choices += ["matmul", "matmul", "t"]
        if rank >= 1 and tie_free:
            choices += ["max"]
        kind = rng.choice(choices)
        cur = self.values[-1]
        if kind == "unary":
            op = rng.choice(["exp", "tanh", "sigmoid", "neg", "relu", "abs", "log", "sqrt"])
            if op in ("log", "sqrt") and not positive:
                cur = self.apply("abs", [cur], v.abs())
                cur = self.apply("add_scalar", [cur], cur[1] + 0.5, positive=True, p=0.5)
            x = cur[1]
            if op == "exp":
                # keep exp's input moderate so chains don't overflow
                cur = self.apply("tanh", [cur], torch.tanh(x), tie_free=cur[2])
                x = cur[1]
            result = {
                "exp": torch.exp, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "neg": torch.neg,
                "relu": torch.relu, "abs": torch.abs, "log": torch.log, "sqrt": torch.sqrt,
            }[op](x)
            monotone = op in ("exp", "tanh", "sigmoid", "neg", "log", "sqrt")
            self.apply(op, [cur], result, tie_free=cur[2] and monotone,
                       positive=op in ("exp", "sigmoid", "sqrt"))
        elif kind == "scalar":
            p = round(rng.uniform(-2, 2), 3) or 1.5
            if rng.random() < 0.5:
                self.apply("add_scalar", [cur], v + p, tie_free=tie_free, positive=positive and p > 0, p=p)
            else:
                self.apply("mul_scalar", [cur], v * p, tie_free=tie_free, positive=positive and p > 0, p=p)
        elif kind == "pow":
            if positive:
                p = rng.choice([2.0, 3.0, 0.5, -1.5])
            else:
                p = rng.choice([2.0, 3.0])
            self.apply("pow", [cur], v.pow(p), positive=positive or p == 2.0, p=p)
        elif kind == "binary":
            op = rng.choice(["add", "sub", "mul", "div"])
            if op != "div" and rng.random() < 0.2:
                pair = [cur, cur]  # one value used twice: gradients must accumulate
            else:
                other = self.new_input(self.broadcast_partner(shape), positive=(op == "div"))
                pair = [cur, other] if rng.random() < 0.5 or op == "div" else [other, cur]
            a, b = pair[0][1], pair[1][1]
            result = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}[op](a, b)
            self.apply(op, pair, result)
        elif kind == "matmul":
            w = self.new_input([shape[1], rng.randint(1, 4)])
            self.apply("matmul", [cur, w], v @ w[1], tie_free=True)
        elif kind == "t":
            self.apply("t", [cur], v.t(), tie_free=tie_free, positive=positive)
        elif kind == "reduce":
            op = rng.choice(["sum", "mean"])
            if rng.random() < 0.3:
                self.apply(op, [cur], getattr(v, op)())
            else:
                dim, keep = rng.randrange(rank), rng.random() < 0.5
                self.apply(op, [cur], getattr(v, op)(dim=dim, keepdim=keep), dim=dim, keepdim=keep)
        elif kind == "max":
            if rng.random() < 0.3:
                self.apply("max", [cur], v.max())
            else:
                dim, keep = rng.randrange(rank), rng.random() < 0.5
                self.apply("max", [cur], v.max(dim=dim, keepdim=keep).values, dim=dim, keepdim=keep)
        elif kind == "softmax":
            op, dim = rng.choice(["softmax", "log_softmax"]), rng.randrange(rank)
            result = torch.softmax(v, dim) if op == "softmax" else torch.log_softmax(v, dim)
            self.apply(op, [cur], result, positive=op == "softmax", dim=dim)
        elif kind == "reshape":
            n = v.numel()
            target = [n] if rank > 1 else [1, n, 1]
            hole = rng.randrange(len(target))
            spec = list(target)
            spec[hole] = -1
            self.apply("reshape", [cur], v.reshape(target), tie_free=tie_free, positive=positive, shape=spec)


def encode(t):
    return {"shape": list(t.shape), "values": [float(x) for x in t.detach().reshape(-1).tolist()]}


def make_case(seed):
    rng = random.Random(seed)
    torch.manual_seed(seed)
    chain = Chain(rng)
    chain.leaves = []
    chain.new_input(chain.random_shape(rng.choice([1, 2, 2, 3])))
    for _ in range(rng.randint(3, 7)):
        chain.step()
    out = chain.values[-1][1]
    grad_out = torch.randn(out.shape, dtype=torch.float32)
    out.backward(grad_out.double())
    return {
        "name": f"chain{seed:02d}",
        "inputs": [encode(x) for x in chain.inputs],
        "ops": chain.ops,
        "grad_output": encode(grad_out),
        "output": encode(out),
        "grads": [encode(leaf.grad if leaf.grad is not None else torch.zeros_like(leaf)) for leaf in chain.leaves],
    }


def main():
    # Chains whose output doesn't depend on some input (softmax over a size-1 dimension,
    # a sum of softmax probabilities) have a gradient that is exactly zero only in exact
    # arithmetic: float32 leaves noise there that no relative tolerance can judge; so do
    # saturated ones (tanh of 10 is exactly 1 in float32). Skip both.
    cases = []
    seed = 0
    while len(cases) < CASES:
        case = make_case(seed)
        seed += 1
        if all(max(map(abs, g["values"]), default=1) > 1e-6 for g in case["grads"]):
            cases.append(case)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"generator": "scripts/fixtures_tensor.py", "torch": torch.__version__, "cases": cases}, f)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
