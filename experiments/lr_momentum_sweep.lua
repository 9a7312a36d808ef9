-- Learning rate × momentum × epochs for an MNIST MLP (784 → 100 tanh → 100 tanh → 10,
-- softmax cross-entropy, SGD with momentum, batch 64): a grid of 27 configurations, each
-- run with 3 seeds (81 trials); the tables give mean ± std over the seeds.
--   moonlab sweep experiments/lr_momentum_sweep.lua --jobs 2
--   moonlab report runs/lr_momentum --format latex
local cfg = lab.config
local smoke = cfg.smoke

local train_set = data.mnist{split = 'train'}
local test_set = data.mnist{split = 'test'}
if smoke then
  train_set = train_set:subset(1, 512)
  test_set = test_set:subset(1, 256)
end
local mean, std = {0.1307}, {0.3081}

local results = lab.sweep{
  name = 'lr_momentum',
  grid = smoke and {lr = {1e-2}, momentum = {0.5, 0.9}, epochs = {1}}
    or {lr = {1e-4, 1e-3, 1e-2}, momentum = {0.5, 0.7, 0.9}, epochs = {2, 5, 10}},
  repeats = smoke and 2 or 3,
  seed = 1,
  metric = 'test_acc',
  mode = 'max',
  run = function(trial)
    local net = nn.Sequential{
      nn.Flatten(),
      nn.Linear(784, 100), nn.Tanh(),
      nn.Linear(100, 100), nn.Tanh(),
      nn.Linear(100, 10),
    }
    local opt = optim.SGD(net:parameters(), {lr = trial.lr, momentum = trial.momentum})
    local normalize = data.Normalize{mean = mean, std = std}
    local h = lab.fit{
      model = net, loss = nn.CrossEntropyLoss(), optimizer = opt, epochs = trial.epochs,
      train = data.Loader(train_set, {batch_size = 64, shuffle = true, seed = trial.seed, transform = normalize}),
      val = data.Loader(test_set, {batch_size = 1000, transform = normalize}),
    }
    return {test_acc = h.val_acc[#h.val_acc], test_loss = h.val_loss[#h.val_loss]}
  end,
}

-- One row per configuration: result holds the means over its seeds, std the deviations.
local rows = {}
for _, r in ipairs(results) do
  rows[#rows + 1] = {r.cfg.lr, r.cfg.momentum, r.cfg.epochs, r.n,
    string.format('%.4f ± %.4f', r.result.test_acc, r.std.test_acc),
    string.format('%.4f ± %.4f', r.result.test_loss, r.std.test_loss)}
end
if lab.run_dir() then
  report.section('lr × momentum × epochs (best mean first)')
  report.table(rows, {columns = {'lr', 'momentum', 'epochs', 'seeds', 'test accuracy', 'test loss'}})
end
