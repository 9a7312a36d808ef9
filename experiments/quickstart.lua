--%% [markdown]
-- # Quickstart: LeNet on CIFAR-10
--
-- A LeNet-style network trained for a couple of epochs with pad-and-crop and
-- horizontal-flip augmentation. Without a data root (`$MOONLAB_DATA` or `./data`) it uses
-- the small real CIFAR-10 sample embedded in Moonlab, so it runs offline.

--%%
local cfg = lab.config
local smoke = cfg.smoke
local epochs = cfg.epochs or (smoke and 1 or 10)

local train_set = data.cifar10{split = 'train'}
local test_set = data.cifar10{split = 'test'}
if smoke then
  train_set = train_set:subset(1, math.min(#train_set, 512))
  test_set = test_set:subset(1, math.min(#test_set, 256))
end
print(string.format('%d training and %d test images', #train_set, #test_set))

--%% [markdown]
-- ## Augmentation
-- Pad each image by 4 pixels, take a random 32×32 window, flip half of them, and
-- normalise with the per-channel CIFAR-10 statistics. The pipeline runs in Swift, off
-- the training thread.

--%%
local mean, std = {0.4914, 0.4822, 0.4465}, {0.2470, 0.2435, 0.2616}
local augment = data.Compose{
  data.PadCrop{pad = 4, size = 32}, data.HFlip{p = 0.5}, data.Normalize{mean = mean, std = std},
}
local train = data.Loader(train_set, {batch_size = 64, shuffle = true, seed = 1, transform = augment})
local val = data.Loader(test_set, {batch_size = 256, transform = data.Normalize{mean = mean, std = std}})

--%% [markdown]
-- ## The network
-- Two 5×5 convolutions with max pooling, then three fully connected layers: 62,006
-- parameters.

--%%
local conv1 = nn.Conv2d(3, 6, 5)
local net = nn.Sequential{
  conv1, nn.ReLU(), nn.MaxPool2d(2),
  nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
  nn.Flatten(),
  nn.Linear(400, 120), nn.ReLU(),
  nn.Linear(120, 84), nn.ReLU(),
  nn.Linear(84, 10),
}
nn.summary(net, {1, 3, 32, 32})

--%% [markdown]
-- ## Training
-- SGD with momentum 0.9 and weight decay; `lab.fit` logs every epoch to the run record
-- and draws the loss and accuracy curves into the report.

--%%
local opt = optim.SGD(net:parameters(), {lr = 0.02, momentum = 0.9, weight_decay = 5e-4})
local history = lab.fit{
  model = net, loss = nn.CrossEntropyLoss(), optimizer = opt,
  train = train, val = val, epochs = epochs,
}

--%% [markdown]
-- ## What the first layer learned
-- The six 5×5 filters of the first convolution, shown as RGB tiles.

--%%
report.section('First-layer filters')
report.filters(conv1)
report.text(string.format('Final validation accuracy: **%.1f %%**', 100 * history.val_acc[#history.val_acc]))
