--%% [markdown]
-- # A tiny CNN, cell by cell
-- Train a small convolutional net on a slice of the bundled CIFAR-10 sample, plot the
-- loss, and look at what the first layer learned.

--%%
local train_set = data.cifar10{split = 'train'}:subset(1, 256)
local loader = data.Loader(train_set, {batch_size = 32, shuffle = true, seed = 1})
print(string.format('%d images in %d batches', #train_set, #loader))

--%% [markdown]
-- ## The network
-- One 5×5 convolution with 6 filters, pooling, and a linear classifier.

--%%
local conv1 = nn.Conv2d(3, 6, 5)
local net = nn.Sequential{conv1, nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(6 * 14 * 14, 10)}
print('parameters:', net:num_parameters())

--%%
local loss_fn, opt = nn.CrossEntropyLoss(), optim.SGD(net:parameters(), {lr = 0.01, momentum = 0.9})
local steps, losses = {}, {}
for epoch = 1, 3 do
  for x, y in loader:batches() do
    opt:zero_grad()
    local loss = loss_fn(net(x), y)
    loss:backward()
    opt:step()
    steps[#steps + 1], losses[#losses + 1] = #steps + 1, loss:item()
  end
end
print(string.format('loss %.3f → %.3f', losses[1], losses[#losses]))
report.plot{series = {{name = 'train loss', x = steps, y = losses}}, title = 'Training loss', xlabel = 'step'}

--%% [markdown]
-- ## First-layer filters

--%%
report.filters(conv1)
report.table({{metric = 'final loss', value = string.format('%.3f', losses[#losses])}}, {columns = {'metric', 'value'}})
