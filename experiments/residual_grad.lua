-- A residual block on scalars, differentiated by the tape (issue 3, item 2):
--   x1 = relu(x0·w0 + b0),  y1 = x1·w1 + b1,  z = relu(y1 + x0)
-- By hand, at x0 = 1, w0 = 0.3, w1 = −0.2, b0 = 0.1, b1 = −0.3:
--   x1 = 0.4, y1 = −0.38, z = 0.62 (> 0, so the outer relu passes gradients through);
--   dz/dw1 = x1 = 0.4, dz/db1 = 1, dz/dw0 = w1·x0 = −0.2, dz/db0 = w1 = −0.2.
local function scalar(v) return tensor.from{v}:requires_grad_() end

local x0 = tensor.from{1}
local w0, b0 = scalar(0.3), scalar(0.1)
local w1, b1 = scalar(-0.2), scalar(-0.3)

local x1 = (x0 * w0 + b0):relu()
local y1 = x1 * w1 + b1
local z = (y1 + x0):relu()
z:backward()

local function show(name, t) print(string.format("%s = %.4g", name, t:item())) end
show("z", z)
show("dz/dw0", w0.grad)
show("dz/dw1", w1.grad)
show("dz/db0", b0.grad)
show("dz/db1", b1.grad)
