-- Moonlab quickstart (interim): a tiny linear regression fitted by gradient descent,
-- every number computed in Swift. Becomes LeNet-CIFAR on the embedded sample once the
-- nn and data libraries land.
local smoke = lab.config.smoke
tensor.seed(lab.config.seed or 0)

local x = tensor.from{{1}, {2}, {3}, {4}}
local y = tensor.from{{3}, {5}, {7}, {9}}          -- y = 2x + 1
local w = tensor.from{{0}}:requires_grad()
local b = tensor.from{{0}}:requires_grad()

for step = 1, smoke and 50 or 500 do
  local err = x:matmul(w) + b - y
  local loss = (err * err):mean()
  loss:backward()
  w = tensor.from{{w:item() - 0.05 * w.grad:item()}}:requires_grad()
  b = tensor.from{{b:item() - 0.05 * b.grad:item()}}:requires_grad()
end
print(string.format("fitted y = %.3f x + %.3f (truth: 2x + 1)", w:item(), b:item()))
