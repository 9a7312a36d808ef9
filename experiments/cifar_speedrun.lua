--%% [markdown]
-- # The CIFAR-10 speedrun: airbench94 in Lua
--
-- Keller Jordan's airbench94 (github.com/KellerJordan/cifar10-airbench, legacy/airbench94.py;
-- Jordan 2024, "94% on CIFAR-10 in 3.29 seconds on a single GPU"): 94.01 % mean test accuracy
-- over 1,000 runs in 3.83 s on an A100 in float16. Here in float32 on the CPU, step for step:
-- a frozen 2×2 patch-whitening convolution, three conv–pool–BatchNorm–GELU blocks, Nesterov
-- SGD with airbench's decoupled hyper-parameters, a triangular learning-rate schedule,
-- lookahead weight averaging, label smoothing, alternating flips with 2-pixel translations,
-- and test-time augmentation. bench/torch/airbench94_cpu.py is the same recipe in PyTorch
-- on the same files; docs/EXPERIMENTS.md, "The CIFAR-10 speedrun", compares the two.
--
--     MOONLAB_DATA=../shared/data moonlab run experiments/cifar_speedrun.lua [--seed 2]
--
-- `--set epochs=N` trains N (fractional) epochs instead of 9.9; `--set smoke=true` runs a
-- few steps on a subset.

--%%
local cfg = lab.config
local smoke = cfg.smoke
cfg.epochs = cfg.epochs or (smoke and 2 or 9.9)
local batch_size = smoke and 128 or 1024

local train_set = data.cifar10{split = 'train'}
local test_set = data.cifar10{split = 'test'}
if smoke then
  train_set = train_set:subset(1, math.min(#train_set, 256))
  test_set = test_set:subset(1, math.min(#test_set, 256))
end
local mean, std = {0.4914, 0.4822, 0.4465}, {0.2470, 0.2435, 0.2616}
local normalize = data.Normalize{mean = mean, std = std}
-- airbench's loader: each image flipped at random once, then all of them on odd epochs,
-- and a random translation of up to 2 pixels (reflect padding) every epoch.
local train = data.Loader(train_set, {batch_size = batch_size, shuffle = true, drop_last = true,
  transform = data.Compose{data.PadCrop{pad = 2, size = 32, fill = 'reflect'}, data.AlternatingFlip{}, normalize}})
local test = data.Loader(test_set, {batch_size = 2000, transform = normalize})

--%% [markdown]
-- ## The network
-- Convolutions start with their first `cin` filters as the identity (Dirac); BatchNorm has
-- eps 1e-12, momentum 0.6 in airbench's convention (PyTorch's 0.4) and a frozen scale. The
-- BatchNorm shifts train at 64× the learning rate (their own parameter group).

--%%
local norm_biases, others = {}, {}
local function conv(cin, cout)
  local c = nn.Conv2d(cin, cout, 3, {padding = 1, bias = false})
  nn.init.dirac(c.weight:narrow(1, 1, cin))
  others[#others + 1] = c.weight
  return c
end
local function norm(width)
  local bn = nn.BatchNorm2d(width, {momentum = 0.4, eps = 1e-12})
  bn.weight.requires_grad = false
  norm_biases[#norm_biases + 1] = bn.bias
  return bn
end
local layers = {}
local function block(cin, cout)
  for _, m in ipairs{conv(cin, cout), nn.MaxPool2d(2), norm(cout), nn.GELU(),
                     conv(cout, cout), norm(cout), nn.GELU()} do
    layers[#layers + 1] = m
  end
end

local whiten = nn.Conv2d(3, 24, 2, {bias = true})
whiten.weight.requires_grad = false
nn.init.zeros(whiten.bias)
others[#others + 1] = whiten.bias
layers[1], layers[2] = whiten, nn.GELU()
block(24, 64)
block(64, 256)
block(256, 256)
local head = nn.Linear(256, 10, {bias = false})
others[#others + 1] = head.weight
for _, m in ipairs{nn.MaxPool2d(3), nn.Flatten(), head, nn.MulConstant(1 / 9)} do layers[#layers + 1] = m end
local net = nn.Sequential(layers)
print(net)

--%% [markdown]
-- ## Training
-- lr 11.5 and weight decay 0.0153 per 1,024 examples in airbench's decoupled form, turned
-- into SGD's by Nesterov's step scale 1 + 1/(1 − momentum); the loss is summed over the
-- batch. The lr rises from 0.2× to 1× over the first 23 % of the steps, then falls to 0.07×.
-- Every 5 steps the weights (and BatchNorm statistics) move to a lookahead average whose
-- weight on the past grows as (step/total)³.

--%%
local momentum = 0.85
local kilostep = 1024 * (1 + 1 / (1 - momentum))
local lr, wd = 11.5 / kilostep, 0.0153 * batch_size / kilostep
local lr_biases = 64 * lr
local opt = optim.SGD({
  {params = norm_biases, lr = lr_biases, weight_decay = wd / lr_biases},
  {params = others, lr = lr, weight_decay = wd / lr},
}, {momentum = momentum, nesterov = true})
local total_steps = math.ceil(#train * cfg.epochs)
local warmup = math.floor(total_steps * 0.23)
local sched = optim.LambdaLR(opt, function(step)
  if step < warmup then return 0.2 + 0.8 * step / warmup end
  return 1 + (0.07 - 1) * (step - warmup) / (total_steps - warmup)
end)
local loss_fn = nn.CrossEntropyLoss{label_smoothing = 0.2, reduction = 'sum'}

local t0 = lab.clock()
local whitening_images
for x in data.Loader(train_set:subset(1, math.min(#train_set, 5000)), {batch_size = 5000, transform = normalize}):batches() do
  whitening_images = x
end
nn.init.patch_whitening(whiten, whitening_images, {eps = 5e-4})
whitening_images = nil
local lookahead = optim.Lookahead(net)
local train_seconds = lab.clock() - t0
report.filters(whiten, {title = 'Whitening filters (2×2, ±eigenvectors of the patch covariance)'})

local step, epoch_seconds, val_accs, lrs = 0, {}, {}, {}
local last_out, last_y, last_loss, e
for epoch = 1, math.ceil(cfg.epochs) do
  whiten.bias.requires_grad = epoch <= 3  -- the whitening bias trains for 3 epochs
  net:train()
  t0 = lab.clock()
  for x, y in train:batches() do
    local out = net(x)
    local loss = loss_fn(out, y)
    opt:zero_grad()
    loss:backward()
    lrs[#lrs + 1] = opt.group_lrs[2]
    opt:step()
    sched:step()
    step = step + 1
    last_out, last_y, last_loss = out:detach(), y, loss:item()
    if step % 5 == 0 then lookahead:update(0.95 ^ 5 * (step / total_steps) ^ 3) end
    if step >= total_steps then
      lookahead:update(1)
      break
    end
  end
  epoch_seconds[epoch] = lab.clock() - t0
  train_seconds = train_seconds + epoch_seconds[epoch]
  e = lab.evaluate(net, test)
  val_accs[epoch] = e.accuracy
  local train_acc = last_out:argmax(2):eq(last_y):mean():item()
  lab.log{epoch = epoch, train_loss = last_loss / last_y:numel(), train_acc = train_acc,
    val_acc = e.accuracy, epoch_seconds = epoch_seconds[epoch]}
  print(string.format('epoch %2d  train loss %.4f acc %.4f  val acc %.4f  %.1f s (%d steps)', epoch,
    last_loss / last_y:numel(), train_acc, e.accuracy, epoch_seconds[epoch], step))
  if step >= total_steps then break end
end

--%% [markdown]
-- ## Test-time augmentation
-- airbench's level 2: half the mirror average of the image, half the mean of the mirror
-- averages of its 1-pixel translates up-left and down-right (reflect padding).

--%%
local function mirror(x) return net(x) * 0.5 + net(x:flip(4)) * 0.5 end
local function tta_logits(x)
  local padded = tensor.pad(x, {1, 1, 1, 1}, {mode = 'reflect'})
  local up_left = padded:narrow(3, 1, 32):narrow(4, 1, 32):contiguous()
  local down_right = padded:narrow(3, 3, 32):narrow(4, 3, 32):contiguous()
  return mirror(x) * 0.5 + (mirror(up_left) + mirror(down_right)) * 0.25
end
t0 = lab.clock()
net:eval()
local correct, seen = 0, 0
tensor.no_grad(function()
  for x, y in test:batches() do
    correct = correct + tta_logits(x):argmax(2):eq(y):sum():item()
    seen = seen + y:numel()
  end
end)
local tta_acc = correct / seen
local tta_seconds = lab.clock() - t0
local total_seconds = train_seconds + tta_seconds
print(string.format('speedrun: val acc %.4f, tta val acc %.4f, time %.1f s (training %.1f s + tta %.1f s)',
  e.accuracy, tta_acc, total_seconds, train_seconds, tta_seconds))

--%% [markdown]
-- ## Report

--%%
report.section('Result')
report.table({
  {'test accuracy', string.format('%.2f %%', 100 * e.accuracy)},
  {'test accuracy with TTA', string.format('%.2f %%', 100 * tta_acc)},
  {'training time (whitening init + training steps)', string.format('%.1f s', train_seconds)},
  {'TTA evaluation', string.format('%.1f s', tta_seconds)},
  {'total (airbench\'s timing: per-epoch evaluation not counted)', string.format('%.1f s', total_seconds)},
  {'steps', string.format('%d of batch %d', step, batch_size)},
}, {columns = {'', ''}})
local epochs_axis = {}
for i = 1, #val_accs do epochs_axis[i] = i end
report.plot{title = 'Test accuracy (no TTA) per epoch', xlabel = 'epoch', ylabel = 'accuracy',
  series = {{name = 'test', x = epochs_axis, y = val_accs}}}
report.plot{title = 'Seconds per epoch (training only)', xlabel = 'epoch', ylabel = 's',
  series = {{name = 'training', x = epochs_axis, y = epoch_seconds}}}
local steps_axis = {}
for i = 1, #lrs do steps_axis[i] = i end
report.plot{title = 'Learning rate (the other parameters; BatchNorm shifts 64×)', xlabel = 'step',
  ylabel = 'lr', series = {{name = 'lr', x = steps_axis, y = lrs}}}
report.confusion(e.confusion, test_set.classes, {title = 'Test set (no TTA)'})
return {val_acc = e.accuracy, tta_val_acc = tta_acc, seconds = total_seconds, train_seconds = train_seconds}
