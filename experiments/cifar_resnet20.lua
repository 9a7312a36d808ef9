-- ResNet-20 on CIFAR-10, the recipe of He et al. 2016, "Deep Residual Learning for Image
-- Recognition" (CVPR 2016, arXiv:1512.03385), section 4.2:
--   * network: 3×3 conv 16 + BN + ReLU, then 3 stages of n = 3 basic blocks (two 3×3 convs
--     with BN, ReLU after the first and after the addition) at 16, 32, 64 channels, stride 2
--     in the first block of stages 2 and 3, global average pooling, Linear 64 → 10;
--     6n + 2 = 20 weighted layers, 0.27 M parameters (269,722 with option A);
--   * shortcuts: option A by default (the paper's choice for CIFAR-10): the identity, and
--     where the block halves the size and doubles the channels, the input subsampled with
--     stride 2 (nn.AvgPool2d(1, 2): 1×1 windows, i.e. x[:, :, ::2, ::2]) with zero channels
--     concatenated after it — parameter-free. `--set shortcut=B` uses a 1×1 conv (stride 2)
--     + BN there instead (272,474 parameters; the shape of bench/torch/cifar_nets_bench.py);
--   * init: MSRA / He et al. 2015 (N(0, 2/fan_in)) for every conv weight, as the paper says
--     ("we initialize the weights as in [13]"); BN γ = 1, β = 0; the final Linear keeps the
--     default U(±1/√64) weight, bias 0 (the paper does not say);
--   * SGD lr 0.1, momentum 0.9, weight decay 1e-4 (on every parameter, BN's included: SGD's
--     weight_decay, as in the common reimplementations), batch 128, lr ÷ 10 at 32k and 48k
--     iterations, stop at 64k;
--   * input: the usual per-channel Normalize (mean/std of the training set), not the paper's
--     per-pixel mean subtraction; augmentation: 4-pixel zero padding + random 32×32 crop,
--     random horizontal flip (data.PadCrop, data.HFlip).
-- Unlike the paper (45k/5k train/val split) we train on all 50k training images and report
-- accuracy on the 10k test set (evaluated after every epoch). Paper: 8.75 % test error
-- (91.25 % accuracy) for ResNet-20.
--
--   moonlab run experiments/cifar_resnet20.lua --threads 2                          -- the full 64k iterations (~164 epochs)
--   moonlab run experiments/cifar_resnet20.lua --threads 2 --set iterations=2000    -- shorter: milestones at 1000, 1500
--   moonlab run experiments/cifar_resnet20.lua --threads 2 --set iterations=391     -- one epoch, to time it
-- Settings (--set): iterations (64000; the milestones stay at 1/2 and 3/4 of it), lr (0.1),
-- batch_size (128), shortcut ('A' or 'B'), train_size (all 50,000), test_size (all 10,000), smoke.
-- The schedule steps per iteration (on_step sets opt.lr), so the milestones fall mid-epoch as
-- in the paper; lab.fit ends training in the epoch where the last iteration falls.
local cfg = lab.config
local smoke = cfg.smoke
cfg.iterations = cfg.iterations or (smoke and 6 or 64000)
cfg.lr = cfg.lr or 0.1
cfg.batch_size = cfg.batch_size or 128
cfg.shortcut = cfg.shortcut or 'A'
local iterations = math.floor(cfg.iterations)
assert(iterations >= 1, 'iterations must be at least 1')
assert(cfg.shortcut == 'A' or cfg.shortcut == 'B', "shortcut must be 'A' or 'B'")
-- 32k and 48k of 64k: at 1/2 and 3/4 of the run, whatever its length.
local milestones = {math.floor(iterations / 2), math.floor(iterations * 3 / 4)}

local train_set = data.cifar10{split = 'train'}
local test_set = data.cifar10{split = 'test'}
if smoke then
  train_set = train_set:subset(1, 512)
  test_set = test_set:subset(1, 256)
else
  if cfg.train_size then train_set = train_set:subset(1, cfg.train_size) end
  if cfg.test_size then test_set = test_set:subset(1, cfg.test_size) end  -- a quicker timing run
end
local mean, std = {0.4914, 0.4822, 0.4465}, {0.2470, 0.2435, 0.2616}
local normalize = data.Normalize{mean = mean, std = std}
local augment = data.Compose{data.PadCrop{pad = 4, size = 32}, data.HFlip{p = 0.5}, normalize}

-- Option A's shortcut where the shape changes: keep every second row and column (a 1×1
-- average pool with stride 2 is exactly x[:, :, ::2, ::2]), then append `extra` channels
-- of zeros. No parameters; the gradient flows to the kept pixels of the first channels.
local SubsamplePad = nn.define{
  name = 'SubsamplePad',
  init = function(self, extra)
    self.extra = extra
    self:module('pool', nn.AvgPool2d(1, 2))
  end,
  forward = function(self, x)
    local s = self.pool(x)
    local zeros = tensor.zeros{s:size(1), self.extra, s:size(3), s:size(4)}
    return tensor.cat({s, zeros}, 2)
  end,
}

local function conv3(cin, cout, stride)
  return nn.Conv2d(cin, cout, 3, {stride = stride, padding = 1, bias = false})
end

local function basic_block(cin, cout, stride)
  local block = nn.Sequential{
    conv3(cin, cout, stride), nn.BatchNorm2d(cout), nn.ReLU(),
    conv3(cout, cout, 1), nn.BatchNorm2d(cout),
  }
  local shortcut
  if stride ~= 1 or cin ~= cout then
    if cfg.shortcut == 'A' then
      shortcut = SubsamplePad(cout - cin)
    else
      shortcut = nn.Sequential{nn.Conv2d(cin, cout, 1, {stride = stride, bias = false}), nn.BatchNorm2d(cout)}
    end
  end
  -- block(x) + shortcut(x), then ReLU: the last BN, the add and the ReLU run as one fused node.
  return nn.Residual(block, shortcut, {relu = true})
end

local function resnet20()
  local layers = {conv3(3, 16, 1), nn.BatchNorm2d(16), nn.ReLU()}
  local cin = 16
  for stage, width in ipairs{16, 32, 64} do
    for i = 1, 3 do
      layers[#layers + 1] = basic_block(cin, width, (stage > 1 and i == 1) and 2 or 1)
      cin = width
    end
  end
  layers[#layers + 1] = nn.AvgPool2d(8)   -- 8×8 → 1×1: global average pooling
  layers[#layers + 1] = nn.Flatten()
  layers[#layers + 1] = nn.Linear(64, 10)
  return nn.Sequential(layers)
end

local net = resnet20()
-- MSRA init for conv weights (4-D), zero Linear bias; names in sorted order so the draws
-- are reproducible.
do
  local params = net:named_parameters()
  local names = {}
  for name in pairs(params) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local p = params[name]
    if p:dim() == 4 then nn.init.msra(p) end
    if p:dim() == 1 and name:match('^%d+%.bias$') then nn.init.zeros(p) end  -- the Linear's bias
  end
end
local n_params = net:num_parameters()
local expected = cfg.shortcut == 'A' and 269722 or 272474
print(string.format('ResNet-20, option %s shortcuts: %d parameters (%.2f M)', cfg.shortcut, n_params, n_params / 1e6))
assert(n_params == expected, string.format('expected %d parameters, got %d', expected, n_params))

local train = data.Loader(train_set, {batch_size = cfg.batch_size, shuffle = true, transform = augment})
local test = data.Loader(test_set, {batch_size = 1000, transform = normalize})
local steps_per_epoch = #train
local epochs = math.ceil(iterations / steps_per_epoch)
print(string.format('%d iterations = %.1f epochs of %d batches; lr %g, ÷10 at iterations %d and %d',
  iterations, iterations / steps_per_epoch, steps_per_epoch, cfg.lr, milestones[1], milestones[2]))

-- lr for the iteration after `done` finished ones (PyTorch's MultiStepLR stepped per iteration).
local function lr_after(done)
  local lr = cfg.lr
  for _, m in ipairs(milestones) do if done >= m then lr = lr * 0.1 end end
  return lr
end

local opt = optim.SGD(net:parameters(), {lr = cfg.lr, momentum = 0.9, weight_decay = 1e-4})
-- Per-iteration losses for the chart, averaged over windows (not restored by moonlab resume).
local window = smoke and 1 or 50
local loss_x, loss_y, acc, n = {}, {}, 0, 0
local images_per_s, epoch_train_s = {}, {}
local h = lab.fit{
  model = net, loss = nn.CrossEntropyLoss(), optimizer = opt, epochs = epochs,
  train = train, val = test, checkpoint_every = smoke and 1 or 10,
  on_step = function(step, loss)
    acc, n = acc + loss, n + 1
    if n == window then
      loss_x[#loss_x + 1], loss_y[#loss_y + 1] = step, acc / n
      acc, n = 0, 0
    end
    opt.lr = lr_after(step)
    if step >= iterations then return 'stop' end
  end,
  on_epoch_end = function(epoch, m)
    images_per_s[#images_per_s + 1] = m.images_per_s
    -- Training seconds of the epoch (validation excluded): its images / images per second.
    epoch_train_s[#epoch_train_s + 1] = m.images_per_s > 0 and #train_set / m.images_per_s or 0
  end,
}

if lab.run_dir() then
  local final = h.val_acc[#h.val_acc]
  local best = 0
  for _, a in ipairs(h.val_acc) do best = math.max(best, a) end
  local full_epochs = math.floor(iterations / steps_per_epoch)
  local secs = {}
  for i = 1, math.max(1, full_epochs) do secs[#secs + 1] = epoch_train_s[i] end
  table.sort(secs)
  local median_s = secs[math.floor((#secs + 1) / 2)]

  report.section('ResNet-20 (He et al. 2016, §4.2)')
  report.text(string.format(
    '%d parameters (%.2f M), option %s shortcuts, MSRA init. SGD lr %g, momentum 0.9, weight decay 1e-4, '
    .. 'batch %d; %d iterations (%.1f epochs of %d batches), lr ÷ 10 at iterations %d and %d. '
    .. 'Per-channel Normalize, pad-4 random crop + horizontal flip. Trained on %d images, tested on %d.',
    n_params, n_params / 1e6, cfg.shortcut, cfg.lr, cfg.batch_size, iterations, iterations / steps_per_epoch,
    steps_per_epoch, milestones[1], milestones[2], #train_set, #test_set))
  report.plot{title = 'Test accuracy', xlabel = 'epoch', ylabel = 'accuracy',
    series = {{name = 'test', y = h.val_acc}, {name = 'train (augmented, running)', y = h.train_acc}}}
  local sx, sy = {0}, {cfg.lr}
  for _, m in ipairs(milestones) do
    if m > 0 and m < iterations then sx[#sx + 1], sy[#sy + 1] = m, lr_after(m - 1); sx[#sx + 1], sy[#sy + 1] = m, lr_after(m) end
  end
  sx[#sx + 1], sy[#sy + 1] = iterations, lr_after(iterations - 1)
  report.plot{title = 'Learning rate per iteration', xlabel = 'iteration', ylabel = 'lr', logy = true,
    series = {{name = 'lr', x = sx, y = sy}}}
  if #loss_y > 0 then
    report.plot{title = string.format('Training loss (mean of %d iterations)', window), xlabel = 'iteration',
      ylabel = 'cross-entropy', series = {{name = 'train loss', x = loss_x, y = loss_y}}}
  end
  report.plot{title = 'Seconds per epoch (training only)', xlabel = 'epoch', ylabel = 's',
    series = {{name = 's / epoch', y = epoch_train_s}}}
  report.table({
    {'ResNet-20, He et al. 2016 (Table 6; 45k train, option A, 64k iterations)', '0.27 M', '64,000', '91.25 %', '8.75 %'},
    {string.format('ours (%s train images, option %s, %d iterations)', #train_set, cfg.shortcut, iterations),
      string.format('%.2f M', n_params / 1e6), tostring(iterations),
      string.format('%.2f %%', 100 * final), string.format('%.2f %%', 100 * (1 - final))},
  }, {columns = {'', 'parameters', 'iterations', 'test accuracy', 'test error'}})
  report.text(string.format('Best test accuracy over the epochs %.2f %%; median training time %.1f s per epoch '
    .. '(%.0f images/s; an epoch that ended early is extrapolated to all %d images). Per epoch: %s s.',
    100 * best, median_s or 0, (median_s and median_s > 0) and #train_set / median_s or 0, #train_set,
    table.concat((function() local t = {} for i, s in ipairs(epoch_train_s) do t[i] = string.format('%.1f', s) end return t end)(), ', ')))
  local e = lab.evaluate(net, test)
  report.section('Test set: where the errors go')
  report.confusion(e.confusion, test_set.classes, {title = 'Confusion matrix (rows: true class)'})
  print(string.format('final test accuracy %.2f %% (paper: 91.25 %%), median %.1f s per epoch', 100 * final, median_s or 0))
end
