-- A tanh RNN with a softmax output predicting the next character of a text made here,
-- trained with backpropagation through time; its gradient is checked against finite
-- differences first.
local cfg = lab.config
local smoke = cfg.smoke
local steps = cfg.steps or (smoke and 20 or 600)
local T, N, H = 16, 32, 64                      -- sequence length, batch, hidden units

-- The text: short sentences drawn from a fixed grammar, so there is structure to learn.
tensor.seed(1)
local subjects = {'the cat', 'a dog', 'moonlab', 'the net', 'my lua script'}
local verbs = {' sees ', ' trains ', ' likes ', ' runs '}
local objects = {'the ball.', 'fast.', 'a tensor.', 'on swift.', 'every epoch.'}
local pick = tensor.rand{3000}:totable()
local parts = {}
for i = 1, 1000 do
  local a, b, c = pick[3 * i - 2], pick[3 * i - 1], pick[3 * i]
  parts[i] = subjects[1 + math.floor(a * #subjects)] .. verbs[1 + math.floor(b * #verbs)]
    .. objects[1 + math.floor(c * #objects)] .. ' '
end
local text = table.concat(parts)

local chars, index = {}, {}
for ch in text:gmatch('.') do
  if not index[ch] then chars[#chars + 1] = ch; index[ch] = #chars end
end
local V = #chars
print(string.format('text of %d characters, vocabulary of %d', #text, V))

-- A batch: N random windows; inputs one-hot [T, N, V], targets the next characters.
local offsets = tensor.rand{steps * N}:totable()
local function batch(step)
  local inputs, targets = {}, {}
  for n = 1, N do
    local start = 1 + math.floor(offsets[(step - 1) * N + n] * (#text - T - 1))
    for t = 1, T do
      inputs[(t - 1) * N + n] = index[text:sub(start + t - 1, start + t - 1)]
      targets[(t - 1) * N + n] = index[text:sub(start + t, start + t)]
    end
  end
  return tensor.one_hot(tensor.from(inputs), V):reshape{T, N, V}, tensor.from(targets)
end

local rnn = nn.RNN(V, H)
local head = nn.Linear(H, V)
local function logits(x) return head(rnn(x):reshape{T * N, H}) end

-- Gradient check of the recurrent layer on a small input (BPTT through 4 steps).
local small = nn.RNN(3, 4)
local ok, err = tensor.gradcheck(function(x) return small(x):tanh():sum() end, {tensor.randn{4, 2, 3}})
print(string.format('RNN gradcheck: %s (max error %.2e)', ok and 'passed' or 'FAILED', err))
assert(ok, 'RNN gradient check failed')

local params = rnn:parameters()
for _, p in ipairs(head:parameters()) do params[#params + 1] = p end
local opt = optim.Adam(params, {lr = 0.01})
local loss_fn = nn.CrossEntropyLoss()
local xs, losses = {}, {}
for step = 1, steps do
  local x, y = batch(step)
  local loss = loss_fn(logits(x), y)
  opt:zero_grad()
  loss:backward()
  opt:step()
  if step % 10 == 0 or step == 1 then
    xs[#xs + 1], losses[#losses + 1] = step, loss:item()
    lab.log{step = step, loss = loss:item()}
  end
end
print(string.format('loss: %.3f at step 1, %.3f at step %d (uniform guessing: %.3f)', losses[1], losses[#losses], steps, math.log(V)))

-- Greedy sampling from the trained net, starting from "the ".
local seed_text, out = 'the ', {}
tensor.no_grad(function()
  local context = seed_text
  for _ = 1, 60 do
    local window = context:sub(-T)
    local ids = {}
    for i = 1, #window do ids[i] = index[window:sub(i, i)] end
    local x = tensor.one_hot(tensor.from(ids), V):reshape{#ids, 1, V}
    local h = rnn(x)
    local last = head(h:reshape{#ids, H}):argmax(2):totable()[#ids]
    context = context .. chars[last]
    out[#out + 1] = chars[last]
  end
end)
print('sample: ' .. seed_text .. table.concat(out))

report.section('Next-character RNN')
report.plot{title = 'Training loss', xlabel = 'step', ylabel = 'cross-entropy', series = {{name = 'loss', x = xs, y = losses}}}
report.text('Greedy sample: `' .. seed_text .. table.concat(out) .. '`')
