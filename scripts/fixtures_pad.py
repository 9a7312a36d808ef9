"""Reference outputs and gradients for tensor.pad (torch.nn.functional.pad) and for
airbench94's test-time-augmentation views (flip, reflect pad 1, two crops).

Writes Tests/MoonlabTensorTests/Fixtures/pad_fixtures.json. Each pad case has float32
inputs, pads (last dimension first, as PyTorch), the mode and value, PyTorch's output and
the input gradient of L = sum(output * grad_output), computed in float64 from the float32
inputs. The "tta" entry holds an image batch and its six views. Run with the project venv:

    /work/main/.venv-bench/bin/python scripts/fixtures_pad.py
"""

import json
import os

import torch
import torch.nn.functional as F

OUT = os.path.join(
    os.path.dirname(__file__), "..", "Tests", "MoonlabTensorTests", "Fixtures", "pad_fixtures.json"
)


def values(t):
    return {"shape": list(t.shape), "values": [float(v) for v in t.detach().double().flatten()]}


def case(cases, shape, pads, mode, value=0.0):
    x = torch.randn(shape, dtype=torch.float32)
    leaf = x.double().requires_grad_()
    out = F.pad(leaf, pads, mode=mode, value=value) if mode == "constant" else F.pad(leaf, pads, mode=mode)
    g = torch.randn(out.shape, dtype=torch.float32)
    (grad,) = torch.autograd.grad((out * g.double()).sum(), [leaf])
    cases.append(
        {
            "name": f"{mode} {list(shape)} pads {list(pads)}" + (f" value {value}" if value else ""),
            "pads": list(pads),
            "mode": mode,
            "value": value,
            "input": values(x),
            "output": values(out),
            "grad_output": values(g),
            "grad": values(grad),
        }
    )


def tta(x):
    """airbench94's infer_mirror_translate views (legacy/airbench94.py), for 5×5 images."""
    padded = F.pad(x, (1,) * 4, "reflect")
    crops = [padded[:, :, 0:5, 0:5], padded[:, :, 2:7, 2:7]]
    views = []
    for v in [x] + crops:
        views += [v, v.flip(-1)]
    return {"input": values(x), "views": [values(v) for v in views]}


def main():
    torch.manual_seed(94)
    cases = []
    for mode in ("constant", "reflect", "replicate"):
        case(cases, (2, 3, 5), (2, 1), mode)
        case(cases, (2, 3, 5), (1, 2, 2, 1), mode)
        case(cases, (2, 2, 4, 5), (1, 2, 3, 1), mode)
        case(cases, (2, 3, 4, 4), (1, 1, 1, 1), mode)
        case(cases, (2, 2, 4, 5), (2, -1, -1, 1), mode)  # negative pads crop
    case(cases, (2, 2, 4, 5), (1, 1, 2, 0), "constant", 1.5)
    case(cases, (2, 2, 4, 5), (-1, 2, 1, -2), "constant")
    case(cases, (2, 2, 3, 4), (1, 0, 0, 1, 1, 1), "constant")
    case(cases, (2, 2, 3, 4), (1, 0, 0, 1, 1, 1), "replicate")
    fixture = {
        "generator": "scripts/fixtures_pad.py",
        "torch": torch.__version__,
        "cases": cases,
        "tta": tta(torch.randn(2, 3, 5, 5, dtype=torch.float32)),
    }
    with open(OUT, "w") as f:
        json.dump(fixture, f)
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
