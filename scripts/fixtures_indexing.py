"""Reference outputs and gradients for indexing, view, join and split ops (issue 14).

Writes Tests/MoonlabTensorTests/Fixtures/indexing_fixtures.json. Each case names an op,
its parameters (0-based dimensions and positions, the Swift API's), float32 inputs that
get gradients, auxiliary tensors (indices, masks, conditions), and PyTorch's outputs
(a list: split and chunk return several) and input gradients for
L = sum_k sum(output_k * grad_output_k), computed in float64 from the float32 inputs.
Run with the project venv:

    /work/main/.venv-bench/bin/python scripts/fixtures_indexing.py
"""

import json
import os

import torch

OUT = os.path.join(
    os.path.dirname(__file__), "..", "Tests", "MoonlabTensorTests", "Fixtures", "indexing_fixtures.json"
)


def values(t):
    return {"shape": list(t.shape), "values": [float(v) for v in t.detach().double().flatten()]}


def index_items(items):
    """PyTorch index for Swift Index items: ["at", i], ["range", a, b) or ["all"]."""
    out = []
    for item in items:
        if item[0] == "at":
            out.append(item[1])
        elif item[0] == "range":
            out.append(slice(item[1], item[2]))
        else:
            out.append(slice(None))
    return tuple(out)


def case(cases, name, op, shapes, fn, aux=(), **params):
    inputs = [torch.randn(s, dtype=torch.float32) for s in shapes]
    leaves = [x.double().requires_grad_() for x in inputs]
    outs = fn(*leaves, *[a.long() if a.dtype == torch.int64 else a for a in aux])
    outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
    grad_outputs = [torch.randn(o.shape, dtype=torch.float32) for o in outs]
    loss = sum((o * g.double()).sum() for o, g in zip(outs, grad_outputs))
    grads = torch.autograd.grad(loss, leaves, allow_unused=True)
    cases.append(
        {
            "name": name,
            "op": op,
            "params": params,
            "inputs": [values(x) for x in inputs],
            "aux": [values(a.float()) for a in aux],
            "outputs": [values(o) for o in outs],
            "grad_outputs": [values(g) for g in grad_outputs],
            "grads": [values(g if g is not None else torch.zeros_like(x)) for g, x in zip(grads, leaves)],
        }
    )


def main():
    torch.manual_seed(14)
    cases = []
    for items in (
        [["at", 1], ["range", 0, 2]],
        [["all"], ["at", 2]],
        [["range", 1, 3], ["all"], ["at", 4]],
        [["range", 0, 1]],
    ):
        case(
            cases, f"index {items}", "index", [[3, 4, 5]],
            lambda x, it=items: x[index_items(it)],
            items=[{"kind": it[0], "bounds": it[1:]} for it in items],
        )
    case(cases, "narrow dim 0 (view)", "narrow", [[4, 3]], lambda x: x.narrow(0, 1, 2), dim=0, start=1, length=2)
    case(cases, "narrow dim 1 (copy)", "narrow", [[2, 5, 3]], lambda x: x.narrow(1, 2, 3), dim=1, start=2, length=3)
    case(cases, "select dim 0", "select", [[3, 4]], lambda x: x.select(0, 2), dim=0, index=2)
    case(cases, "select dim 2", "select", [[2, 3, 4]], lambda x: x.select(2, 1), dim=2, index=1)
    case(cases, "transpose", "transpose", [[2, 3, 4]], lambda x: x.transpose(0, 2), dims=[0, 2])
    case(cases, "permute", "permute", [[2, 3, 4]], lambda x: x.permute(2, 0, 1), dims=[2, 0, 1])
    case(cases, "expand", "expand", [[3, 1, 4]], lambda x: x.expand(2, 3, 5, 4), sizes=[2, 3, 5, 4])
    case(cases, "flip", "flip", [[2, 3, 4]], lambda x: x.flip(0, 2), dims=[0, 2])
    case(cases, "repeat", "repeat", [[2, 3]], lambda x: x.repeat(2, 1, 3), sizes=[2, 1, 3])
    case(cases, "squeeze", "squeeze", [[2, 1, 3]], lambda x: x.squeeze(1), dim=1)
    case(cases, "unsqueeze", "unsqueeze", [[2, 3]], lambda x: x.unsqueeze(1), dim=1)
    case(
        cases, "index_select", "index_select", [[3, 4]],
        lambda x, i: x.index_select(1, i), aux=[torch.tensor([2, 0, 2])], dim=1,
    )
    case(
        cases, "gather", "gather", [[3, 4]],
        lambda x, i: x.gather(1, i), aux=[torch.tensor([[0, 0, 3], [1, 2, 1], [3, 3, 3]])], dim=1,
    )
    case(
        cases, "scatter_add", "scatter_add", [[3, 4], [2, 4]],
        lambda x, s, i: x.scatter_add(0, i, s), aux=[torch.tensor([[0, 1, 2, 0], [2, 1, 0, 0]])], dim=0,
    )
    case(
        cases, "scatter_add_ on a clone", "scatter_add_", [[3, 4], [2, 4]],
        lambda x, s, i: x.clone().scatter_add_(0, i, s), aux=[torch.tensor([[0, 1, 2, 0], [2, 1, 0, 0]])], dim=0,
    )
    mask = torch.tensor([[1.0, 0, 1, 0], [0, 0, 0, 1], [1, 1, 0, 0]])
    case(cases, "masked select", "masked", [[3, 4]], lambda x, m: x[m.bool()], aux=[mask])
    case(
        cases, "masked_fill", "masked_fill", [[3, 4]],
        lambda x, m: x.masked_fill(m.bool(), 2.5), aux=[torch.tensor([1.0, 0, 0, 1])], value=2.5,
    )
    case(
        cases, "where", "where", [[3, 1], [4]],
        lambda a, b, c: torch.where(c.bool(), a, b), aux=[mask],
    )
    case(cases, "cat", "cat", [[2, 1, 3], [2, 4, 3], [2, 2, 3]], lambda *xs: torch.cat(xs, 1), dim=1)
    case(cases, "stack", "stack", [[2, 3], [2, 3]], lambda *xs: torch.stack(xs, 1), dim=1)
    case(cases, "split", "split", [[2, 5]], lambda x: x.split(2, 1), size=2, dim=1)
    case(cases, "chunk", "chunk", [[7, 2]], lambda x: x.chunk(3, 0), chunks=3, dim=0)
    with open(OUT, "w") as f:
        json.dump({"generator": "scripts/fixtures_indexing.py", "torch": torch.__version__, "cases": cases}, f)
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
