-- Batch size vs time and accuracy: an MLP 784 → 100 (tanh) → 100 (tanh) → 10 (sigmoid
-- outputs, binary cross-entropy on one-hot targets) trained with plain SGD for ONE epoch
-- over MNIST's 60,000 training images, once per batch size 2^0 … 2^13.
-- Reference (a NumPy implementation on a laptop): 23.3 s per epoch at batch 1, 5.8 s at
-- 4, 1.76 s at 16, 0.70 s at 128, ~0.53 s from 1024 up; accuracy falls and cross-entropy
-- rises with batch size at a fixed number of epochs.
local cfg = lab.config
local smoke = cfg.smoke
local lr = cfg.lr or 0.1
local max_log2 = cfg.max_log2 or (smoke and 4 or 13)

local train_set = data.mnist{split = 'train'}
local test_set = data.mnist{split = 'test'}
if smoke then
  train_set = train_set:subset(1, 1024)
  test_set = test_set:subset(1, 500)
end

-- Test accuracy and mean binary cross-entropy of `net` over the test set.
local function evaluate(net, bce)
  net:eval()
  local correct, loss_sum, n = 0, 0, 0
  tensor.no_grad(function()
    for x, y in data.Loader(test_set, {batch_size = 1000}):batches() do
      local out = net(x)
      local b = y:numel()
      loss_sum = loss_sum + bce(out, tensor.one_hot(y, 10)):item() * b
      local pred, labels = out:argmax(2):totable(), y:totable()
      for i = 1, b do
        if pred[i] == labels[i] then correct = correct + 1 end
      end
      n = n + b
    end
  end)
  net:train()
  return correct / n, loss_sum / n
end

local sizes, seconds, accuracy, xent, rows = {}, {}, {}, {}, {}
for k = 0, max_log2 do
  local batch = 2 ^ k
  tensor.seed(1)
  local net = nn.Sequential{
    nn.Flatten(),
    nn.Linear(784, 100), nn.Tanh(),
    nn.Linear(100, 100), nn.Tanh(),
    nn.Linear(100, 10), nn.Sigmoid(),
  }
  local bce = nn.BCELoss()
  local opt = optim.SGD(net:parameters(), {lr = lr})
  local loader = data.Loader(train_set, {batch_size = batch, shuffle = true, seed = 1})
  local t0 = lab.clock()
  for x, y in loader:batches() do
    local loss = bce(net(x), tensor.one_hot(y, 10))
    opt:zero_grad()
    loss:backward()
    opt:step()
  end
  local t = lab.clock() - t0
  local acc, ce = evaluate(net, bce)
  print(string.format('batch %5d: %7.2f s/epoch  test accuracy %.4f  cross-entropy %.4f', batch, t, acc, ce))
  lab.log{batch_size = batch, epoch_seconds = t, test_acc = acc, test_xent = ce}
  sizes[#sizes + 1], seconds[#seconds + 1] = batch, t
  accuracy[#accuracy + 1], xent[#xent + 1] = acc, ce
  rows[#rows + 1] = {batch, string.format('%.2f', t), string.format('%.4f', acc), string.format('%.4f', ce)}
end

report.section('Batch size sweep: one epoch of plain SGD')
report.table(rows, {columns = {'batch size', 'seconds / epoch', 'test accuracy', 'test cross-entropy'}})
report.plot{title = 'Time per epoch', xlabel = 'batch size', ylabel = 'seconds', logx = true, logy = true,
  series = {{name = 'moonlab', x = sizes, y = seconds},
            {name = 'NumPy reference', x = {1, 4, 16, 128, 1024, 8192}, y = {23.3, 5.8, 1.76, 0.70, 0.53, 0.53}}}}
report.plot{title = 'Test accuracy after one epoch', xlabel = 'batch size', ylabel = 'accuracy', logx = true,
  series = {{name = 'accuracy', x = sizes, y = accuracy}}}
report.plot{title = 'Test cross-entropy after one epoch', xlabel = 'batch size', ylabel = 'binary cross-entropy', logx = true,
  series = {{name = 'cross-entropy', x = sizes, y = xent}}}
