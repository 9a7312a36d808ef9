#!/usr/bin/env bash
# Checks `moonlab notebook` and the Jupyter kernel with the real Jupyter tools (issue 8):
# nbformat.validate and `jupyter nbconvert --to html` on the written notebooks, the
# script → .ipynb → script round trip of every experiment, and the kernel executing a
# notebook, reporting a Lua error, surviving an interrupt and a restart.
# Jupyter comes from PyPI into a virtual environment ($JUPYTER_VENV, default
# .build/jupytervenv) when it is missing there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="${JUPYTER_VENV:-$root/.build/jupytervenv}"
if [ ! -x "$venv/bin/jupyter-nbconvert" ] || ! "$venv/bin/python" -c "import ipykernel, nbformat" 2>/dev/null; then
  # Exit 77 (skipped) only when PyPI can't be reached: everything after this must pass.
  python3 -m venv "$venv" && "$venv/bin/pip" install --quiet jupyter nbformat nbconvert ipykernel || {
    echo "notebook_check: SKIPPED: Jupyter could not be installed from PyPI" >&2
    exit 77
  }
fi
py="$venv/bin/python"
# $MOONLAB_BIN: an already built moonlab (scripts/test.sh passes its release build).
moonlab="${MOONLAB_BIN:-}"
if [ -z "$moonlab" ]; then
  swift build --product moonlab >/dev/null
  moonlab="$(swift build --show-bin-path)/moonlab"
fi
moonlab="$(realpath "$moonlab")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# An example notebook that trains a small net and plots; its cells share locals, as a
# script's do (the kernel carries a cell's locals into the next cells).
cat >"$work/example.lua" <<'LUA'
--%% [markdown]
-- # A small fit
-- A two-layer net learns y = 2x + 1 by gradient descent, every number computed in Swift.

--%%
local x = tensor.from{{0.1}, {0.2}, {0.3}, {0.4}}
local y = tensor.from{{1.2}, {1.4}, {1.6}, {1.8}}
local net = nn.Sequential{nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1)}
local opt = optim.SGD(net:parameters(), {lr = 0.1})
local loss_fn = nn.MSELoss()
local losses, steps = {}, {}

--%%
for step = 1, 200 do
  opt:zero_grad()
  local loss = loss_fn(net(x), y)
  loss:backward()
  opt:step()
  steps[step], losses[step] = step, loss:item()
end
print(string.format('loss %.4f -> %.4f', losses[1], losses[#losses]))

--%%
report.plot{series = {{name = 'loss', x = steps, y = losses}}, title = 'Training loss', logy = true}
LUA
cat >"$work/failing.lua" <<'LUA'
--%%
print('before the error')
--%%
local t = tensor.zeros{2, 3}
local u = t:matmul(t)
--%%
print('never')
LUA

echo "== moonlab notebook: example, failing script, quickstart (smoke)"
"$moonlab" notebook "$work/example.lua" --out "$work/example"
set +e
"$moonlab" notebook "$work/failing.lua" --out "$work/failing" >/dev/null 2>&1
status=$?
set -e
[ "$status" = 1 ] || { echo "failing notebook: exit $status, expected 1"; exit 1; }
if [ -f experiments/quickstart.lua ]; then
  "$moonlab" notebook experiments/quickstart.lua --set smoke=true --out "$work/quickstart" >/dev/null 2>&1 \
    || echo "quickstart: exit $? (its notebook is still checked)"
fi

echo "== nbformat.validate and nbconvert --to html"
for nb in "$work"/*/notebook.ipynb; do
  "$py" -c "import nbformat, sys; nbformat.validate(nbformat.read(sys.argv[1], as_version=4)); print('valid', sys.argv[1])" "$nb"
  "$venv/bin/jupyter-nbconvert" --to html --log-level=ERROR --output-dir "$work/html" --output "$(basename "$(dirname "$nb")")" "$nb"
done
ls "$work/html"

echo "== round trip script → ipynb → script"
for s in experiments/*.lua docs/notebook_demo.lua "$work/example.lua" "$work/failing.lua"; do
  [ -f "$s" ] || continue
  "$moonlab" notebook --to-ipynb "$s" -o "$work/rt.ipynb"
  "$py" -c "import nbformat, sys; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))" "$work/rt.ipynb"
  "$moonlab" notebook --from-ipynb "$work/rt.ipynb" -o "$work/rt.lua"
  cmp "$s" "$work/rt.lua" && echo "identical: $s"
done

echo "== kernel: install, execute a notebook, error, interrupt, restart"
cd "$work"  # the kernel records into runs/kernel-… under its working directory
"$moonlab" kernel install --prefix "$venv" --python "$py"
"$moonlab" notebook --to-ipynb "$work/example.lua" -o "$work/example.ipynb"
"$venv/bin/jupyter-nbconvert" --to notebook --execute --log-level=ERROR \
  --ExecutePreprocessor.timeout=120 --output "$work/executed.ipynb" "$work/example.ipynb"
"$py" - "$work/executed.ipynb" <<'PY'
import sys, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
nbformat.validate(nb)
outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
streams = "".join(o.text for o in outputs if o.output_type == "stream")
assert "loss " in streams and " -> " in streams, streams
images = [o for o in outputs if o.output_type == "display_data" and ({"image/svg+xml", "image/png"} & set(o.data))]
assert images, "no image/svg+xml or image/png display in the executed notebook"
print("executed notebook: stream output and", len(images), "image display(s)")
PY
"$py" - <<'PY'
import time
from jupyter_client.manager import start_new_kernel

km, kc = start_new_kernel(kernel_name="moonlab")

def execute(code, timeout=60):
    msg_id = kc.execute(code)
    outputs = []
    while True:
        m = kc.get_iopub_msg(timeout=timeout)
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            break
        if m["msg_type"] in ("stream", "display_data", "execute_result", "error"):
            outputs.append((m["msg_type"], m["content"]))
    while True:  # the reply to this request (an earlier one may still be queued)
        reply = kc.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply["content"]["status"], outputs

status, out = execute("answer = 42\nprint('hello', answer)")
assert status == "ok" and out == [("stream", {"name": "stdout", "text": "hello\t42\n"})], out
status, out = execute("answer / 2")
assert out[0][0] == "execute_result" and out[0][1]["data"]["text/plain"] == "21.0", out
status, out = execute("local a = 1\n\nerror('boom')")
assert status == "error" and out[-1][0] == "error", out
assert out[-1][1]["evalue"].endswith(":3: boom") and "stack traceback:" in out[-1][1]["traceback"], out
print("error output:", out[-1][1]["evalue"])

msg_id = kc.execute("print('looping')\nwhile true do end")
while True:  # interrupt once the loop surely runs in the Lua state
    m = kc.get_iopub_msg(timeout=60)
    if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "stream":
        break
time.sleep(0.5)
start = time.time()
km.interrupt_kernel()
errors = []
while True:
    m = kc.get_iopub_msg(timeout=30)
    if m["parent_header"].get("msg_id") != msg_id:
        continue
    if m["msg_type"] == "error":
        errors.append(m["content"]["evalue"])
    if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
        break
assert errors and "interrupted" in errors[0], errors
print("interrupt stopped the loop in %.2f s" % (time.time() - start))
status, out = execute("print(answer)")
assert out == [("stream", {"name": "stdout", "text": "42\n"})], out
print("kernel usable after interrupt, state kept")

km.restart_kernel(now=True)
kc.wait_for_ready(timeout=60)
status, out = execute("print(answer)")
assert out == [("stream", {"name": "stdout", "text": "nil\n"})], out
print("restart gives a fresh Lua state")
kc.stop_channels()
km.shutdown_kernel(now=True)
PY
echo "notebook_check: all passed"
