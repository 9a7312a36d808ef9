-- Extending Moonlab from Lua: a Swish activation written as an autograd op with a
-- hand-derived backward (nn.Function), wrapped in a layer with a learnable slope
-- (nn.define), gradient-checked, then used in a small CIFAR-10 network.
local cfg = lab.config
local smoke = cfg.smoke
local epochs = cfg.epochs or (smoke and 1 or 5)

-- swish(x) = x·σ(βx);  d/dx = σ(βx) + βx·σ(βx)(1 − σ(βx));  d/dβ = x²·σ(βx)(1 − σ(βx))
local SwishOp = nn.Function{
  name = 'Swish',
  forward = function(ctx, x, beta)
    local s = (x * beta):sigmoid()
    ctx:save(x, beta, s)
    return x * s
  end,
  backward = function(ctx, g)
    local x, beta, s = ctx.saved[1], ctx.saved[2], ctx.saved[3]
    local ds = s * (1 - s)
    local gx = g * (s + x * beta * ds)
    local gbeta = (g * x * x * ds):sum():reshape{1}
    return gx, gbeta
  end,
}

local Swish = nn.define{
  name = 'Swish',
  init = function(self)
    self:param('beta', tensor.ones{1})
  end,
  forward = function(self, x)
    return SwishOp(x, self.beta)
  end,
}

-- Check the hand-written backward against finite differences, for x and for β.
local ok, err = tensor.gradcheck(function(x, beta) return SwishOp(x, beta) end,
  {tensor.randn{3, 5}, tensor.from{0.7}})
print(string.format('Swish gradcheck: %s (max error %.2e)', ok and 'passed' or 'FAILED', err))
assert(ok, 'Swish gradient check failed')

local train_set = data.cifar10{split = 'train'}
local test_set = data.cifar10{split = 'test'}
if smoke then
  train_set = train_set:subset(1, 512)
  test_set = test_set:subset(1, 256)
elseif cfg.train_size then
  train_set = train_set:subset(1, cfg.train_size)
end
local normalize = data.Normalize{mean = {0.4914, 0.4822, 0.4465}, std = {0.2470, 0.2435, 0.2616}}

local net = nn.Sequential{
  nn.Conv2d(3, 16, 5, {padding = 2}), Swish(), nn.MaxPool2d(2),
  nn.Conv2d(16, 32, 5, {padding = 2}), Swish(), nn.MaxPool2d(2),
  nn.Flatten(),
  nn.Linear(32 * 8 * 8, 128), Swish(),
  nn.Linear(128, 10),
}
print(net)
local opt = optim.SGD(net:parameters(), {lr = 0.02, momentum = 0.9, weight_decay = 5e-4})
local h = lab.fit{
  model = net, loss = nn.CrossEntropyLoss(), optimizer = opt, epochs = epochs,
  train = data.Loader(train_set, {batch_size = 128, shuffle = true, seed = 1, transform = normalize}),
  val = data.Loader(test_set, {batch_size = 500, transform = normalize}),
}
local betas = {}
for name, p in pairs(net:named_parameters()) do
  if name:match('beta$') then betas[#betas + 1] = string.format('%s = %.3f', name, p:item()) end
end
table.sort(betas)
report.section('Learned Swish slopes')
report.text(table.concat(betas, ', '))
print('learned slopes: ' .. table.concat(betas, ', '))
