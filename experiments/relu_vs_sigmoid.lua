--%% [markdown]
-- # ReLU vs sigmoid hidden units
--
-- The same MLP, once with sigmoid and once with ReLU hidden units, trained on a 2-D
-- two-class set whose boundary is not a line (`data.synth{kind='circles'}`: one ring
-- inside another, 54.5 % of the points in the outer one). No straight line separates
-- the rings, so until a network bends its boundary it predicts the majority class and
-- sits at about 0.545 accuracy. Sigmoid units saturate and pass small gradients, so that
-- network sits there for a few epochs; ReLU units don't.

--%%
local cfg = lab.config
local smoke = cfg.smoke
local epochs = cfg.epochs or (smoke and 2 or 20)
local lr = cfg.lr or 0.001

local points = data.synth{kind = 'circles', noise = cfg.noise or 0.15, n = smoke and 400 or 4000, seed = 1}
local train_set, val_set = points:split({0.8, 0.2}, 1)
print(string.format('%d training and %d validation points', #train_set, #val_set))

--%% [markdown]
-- ## The network
-- 2 → 1024 → 512 → 2, trained with Adam at learning rate 0.001 on mini-batches of 16.

--%%
local function mlp(act)
  return nn.Sequential{
    nn.Linear(2, 1024), act(),
    nn.Linear(1024, 512), act(),
    nn.Linear(512, 2),
  }
end

local histories = {}
for _, name in ipairs{'sigmoid', 'relu'} do
  tensor.seed(1)
  local net = mlp(name == 'relu' and nn.ReLU or nn.Sigmoid)
  local opt = optim.Adam(net:parameters(), {lr = lr})
  print('== ' .. name)
  histories[name] = lab.fit{
    model = net, loss = nn.CrossEntropyLoss(), optimizer = opt, epochs = epochs,
    train = data.Loader(train_set, {batch_size = 16, shuffle = true, seed = 1}),
    val = data.Loader(val_set, {batch_size = 256}),
  }
end

--%% [markdown]
-- ## Validation accuracy per epoch

--%%
local function epochs_of(h)
  local x = {}
  for i = 1, #h.val_acc do x[i] = i end
  return x
end
report.section('ReLU vs sigmoid')
report.plot{
  title = 'Validation accuracy', xlabel = 'epoch', ylabel = 'accuracy',
  series = {
    {name = 'sigmoid', x = epochs_of(histories.sigmoid), y = histories.sigmoid.val_acc},
    {name = 'relu', x = epochs_of(histories.relu), y = histories.relu.val_acc},
  },
}
local rows = {}
for i = 1, #histories.relu.val_acc do
  rows[i] = {i, histories.sigmoid.val_acc[i], histories.relu.val_acc[i]}
end
report.table(rows, {columns = {'epoch', 'sigmoid val acc', 'relu val acc'}})
