"""Checkpoints cross between moonlab and PyTorch both ways (issue 4, acceptance #4).

1. moonlab builds a small conv net (Conv2d, BatchNorm2d, ReLU, MaxPool2d, Flatten, Linear),
   moves BatchNorm's running statistics with a few train-mode passes, saves it with
   m:save(path) and prints its eval-mode output on a fixed input. PyTorch loads the file
   with torch.nn.Sequential(...).load_state_dict(safetensors.torch.load_file(path))
   (strict: every name and shape must match) and must give the same output.
2. PyTorch saves the state_dict of the same architecture with safetensors.torch.save_file
   (BatchNorm's num_batches_tracked is int64); moonlab loads it with m:load(path) and must
   give PyTorch's output.

Run from the repository root after `swift build --product moonlab`:
    /work/torchvenv/bin/python scripts/checkpoint_roundtrip.py [--moonlab .build/debug/moonlab]
Prints the largest differences and exits non-zero on a mismatch.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import torch
from safetensors.torch import load_file, save_file

LUA_NET = """
local function net()
  return nn.Sequential{
    nn.Conv2d(3, 6, 3, {padding = 1}), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(6, 8, 3, {stride = 2, padding = 1}), nn.BatchNorm2d(8), nn.ReLU(),
    nn.Flatten(), nn.Linear(32, 10),
  }
end

local function print_output(m, x)
  m:eval()
  for _, row in ipairs(m(x):totable()) do
    for _, v in ipairs(row) do print(string.format("%.9g", v)) end
  end
end
"""

# arg[1]: input file (tensor "x"), arg[2]: where to save the checkpoint.
LUA_SAVE = LUA_NET + """
tensor.seed(1)
local m = net()
m:train()
for _ = 1, 3 do m(tensor.randn{4, 3, 8, 8}) end
m:save(arg[2])
print_output(m, nn.load(arg[1]).x)
"""

# arg[1]: input file, arg[2]: a PyTorch-written checkpoint to load.
LUA_LOAD = LUA_NET + """
local m = net()
m:load(arg[2])
print_output(m, nn.load(arg[1]).x)
"""


def torch_net():
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Flatten(), nn.Linear(32, 10),
    )


def run_moonlab(moonlab, tmp, name, code, *args):
    script = os.path.join(tmp, name)
    with open(script, "w") as f:
        f.write(code)
    out = subprocess.run([moonlab, "run", script, "--", *args], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"moonlab failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    values = [float(line) for line in out.stdout.split() if line.strip()]
    return torch.tensor(values).reshape(4, 10)


def compare(what, ours, theirs, tol=1e-5):
    diff = (ours - theirs).abs()
    rel = (diff / theirs.abs().clamp_min(1e-6)).max().item()
    ok = torch.allclose(ours, theirs, rtol=tol, atol=1e-6)
    print(f"{what}: max abs difference {diff.max().item():.3g}, max relative {rel:.3g} -> {'OK' if ok else 'MISMATCH'}")
    return ok


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--moonlab", default=os.path.join(".build", "debug", "moonlab"))
    moonlab = os.path.abspath(parser.parse_args().moonlab)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        inputs = os.path.join(tmp, "input.safetensors")
        x = torch.randn(4, 3, 8, 8)
        save_file({"x": x}, inputs)

        # moonlab -> PyTorch
        saved = os.path.join(tmp, "moonlab.safetensors")
        ours = run_moonlab(moonlab, tmp, "save.lua", LUA_SAVE, inputs, saved)
        net = torch_net()
        net.load_state_dict(load_file(saved))  # strict: names and shapes must all match
        net.eval()
        with torch.no_grad():
            ok1 = compare("moonlab-saved checkpoint in PyTorch", ours, net(x))

        # PyTorch -> moonlab
        net = torch_net()
        net.train()
        with torch.no_grad():
            for _ in range(3):
                net(torch.randn(4, 3, 8, 8))
        written = os.path.join(tmp, "torch.safetensors")
        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, written)
        ours = run_moonlab(moonlab, tmp, "load.lua", LUA_LOAD, inputs, written)
        net.eval()
        with torch.no_grad():
            ok2 = compare("PyTorch-saved checkpoint in moonlab", ours, net(x))
    sys.exit(0 if ok1 and ok2 else 1)


if __name__ == "__main__":
    main()
