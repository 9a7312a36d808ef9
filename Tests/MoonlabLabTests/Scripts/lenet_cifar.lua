-- LeNet-5 on CIFAR-10 (the 1,000-image sample bundled with Moonlab when $MOONLAB_DATA
-- has no CIFAR-10): lab.fit with validation, checkpoints, curves and first-layer filters.
--   moonlab run Tests/MoonlabLabTests/Scripts/lenet_cifar.lua --set epochs=3
local cfg = lab.config
cfg.epochs = cfg.epochs or 4
cfg.lr = cfg.lr or 0.05
cfg.batch_size = cfg.batch_size or 32
cfg.limit = cfg.limit or 0 -- use only the first `limit` images of each split (0 = all)

local train = data.cifar10{split = 'train'}
local test = data.cifar10{split = 'test'}
if cfg.limit > 0 then
  train = train:subset(1, cfg.limit)
  test = test:subset(1, cfg.limit)
end
local norm = data.Normalize{mean = {0.4914, 0.4822, 0.4465}, std = {0.2470, 0.2435, 0.2616}}
local train_loader = data.Loader(train, {batch_size = cfg.batch_size, shuffle = true, seed = 1,
  transform = data.Compose{data.PadCrop{pad = 4, size = 32}, data.HFlip{p = 0.5}, norm}})
local test_loader = data.Loader(test, {batch_size = 100, transform = norm})

local model = nn.Sequential{
  nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
  nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
  nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
}
local opt = optim.SGD(model:parameters(), {lr = cfg.lr, momentum = 0.9, weight_decay = 5e-4})
local sched = optim.CosineLR(opt, {t_max = cfg.epochs})

report.section("LeNet-5 on CIFAR-10")
report.text(("%d training and %d test images, **%d parameters**, SGD with momentum, cosine schedule.")
  :format(#train, #test, model:num_parameters()))
local x = train_loader:batches()()
report.image(x:reshape{x:size(1), 3, 32, 32}, {title = "a training batch (augmented, normalised)"})

local history = lab.fit{model = model, loss = nn.CrossEntropyLoss(), optimizer = opt, scheduler = sched,
  train = train_loader, val = test_loader, epochs = cfg.epochs, checkpoint_every = 2}

local final = lab.evaluate(model, test_loader)
report.section("Result")
report.text(("Test accuracy after %d epochs: **%.2f%%** (loss %.4f)."):format(cfg.epochs, final.accuracy * 100, final.loss))
report.filters(model)
