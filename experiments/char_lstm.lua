-- A character-level language model: Embedding → 2-layer LSTM → Linear, trained with
-- truncated backpropagation through time on a text made here. The batch is N parallel
-- streams through the text; each step trains on the next T characters of every stream
-- and carries the LSTM's state (detached) into the next step. Gradients are clipped by
-- norm, and ReduceLROnPlateau lowers the lr when the held-out loss stops improving.
-- Full run: the held-out loss falls below 0.3 nats per character (uniform guessing over
-- the 23-character vocabulary is 3.14; the text's own entropy, printed below, is ~0.18,
-- so 0.3 means the net has the grammar, agreement included); smoke mode only checks
-- that the loss falls.
local cfg = lab.config
local smoke = cfg.smoke
local steps = cfg.steps or (smoke and 30 or 400)
local T, N = 32, 32                -- characters per step (BPTT length), parallel streams
local E, H = 24, 128               -- embedding size, hidden units per layer
local threshold = 0.3

-- The text: sentences from a small grammar, so there is structure worth remembering
-- across words (agreement of "the cats" / "the cat" with the verb).
tensor.seed(cfg.seed or 1)
local nouns = {'cat', 'dog', 'net', 'tensor', 'lua script', 'swift kernel'}
local verbs = {{'sees', 'see'}, {'trains', 'train'}, {'likes', 'like'}, {'runs', 'run'}}
local endings = {'the ball.', 'fast.', 'every epoch.', 'on two cores.', 'the gradient.'}
local pick = tensor.rand{4 * 3000}:totable()
local parts = {}
for i = 1, 3000 do
  local a, b, c, d = pick[4 * i - 3], pick[4 * i - 2], pick[4 * i - 1], pick[4 * i]
  local plural = d < 0.5
  local noun = nouns[1 + math.floor(a * #nouns)] .. (plural and 's' or '')
  local verb = verbs[1 + math.floor(b * #verbs)][plural and 2 or 1]
  parts[i] = 'the ' .. noun .. ' ' .. verb .. ' ' .. endings[1 + math.floor(c * #endings)] .. ' '
end
local text = table.concat(parts)
-- Each sentence is one of #nouns·2·#verbs·#endings equally likely ones: that many nats
-- per sentence is the least any model can reach, spread over its characters.
local floor = math.log(#nouns * 2 * #verbs * #endings) * #parts / #text

local chars, index = {}, {}
for ch in text:gmatch('.') do
  if not index[ch] then chars[#chars + 1] = ch; index[ch] = #chars end
end
local V = #chars
local ids = {}
for i = 1, #text do ids[i] = index[text:sub(i, i)] end
-- The last tenth is held out; the rest is cut into N streams.
local held = math.floor(#ids * 0.9)
local all = tensor.from(ids)
local train, valid = all:narrow(1, 1, held), all:narrow(1, held + 1, #ids - held)
local per_stream = math.floor((held - 1) / N)
print(string.format('text of %d characters, vocabulary of %d, %d streams of %d', #text, V, N, per_stream))

-- Stream n's characters are train[(n-1)·per_stream + 1 …]: as a [per_stream, N] table of
-- inputs and the same shifted by one as targets.
local inputs = train:narrow(1, 1, N * per_stream):view(N, per_stream):t()
local targets = train:narrow(1, 2, N * per_stream):view(N, per_stream):t()

local embed = nn.Embedding(V, E)
local lstm = nn.LSTM(E, H, {num_layers = 2})
local head = nn.Linear(H, V)
local model = nn.ModuleList{embed, lstm, head}
local loss_fn = nn.CrossEntropyLoss()

-- Logits [steps·N, V] of a [steps, N] block of character ids, and the final state.
local function forward(x, h, c)
  local out
  out, h, c = lstm(embed(x), h, c)
  local t, n = x:size(1), x:size(2)
  return head(out:reshape{t * n, H}), h, c
end

local opt = optim.Adam(model:parameters(), {lr = 0.01})
local plateau = optim.ReduceLROnPlateau(opt, {mode = 'min', factor = 0.5, patience = 2})

-- Held-out loss: the whole held-out text as one stream, in no-grad mode.
local function held_out_loss()
  return tensor.no_grad(function()
    local x = valid:narrow(1, 1, valid:numel() - 1):view(-1, 1)
    local y = valid:narrow(1, 2, valid:numel() - 1)
    model:eval()
    local logits = forward(x)
    model:train()
    return loss_fn(logits, y):item()
  end)
end

local h, c
local position = 1
local xs, train_losses, eval_xs, eval_losses, norms = {}, {}, {}, {}, {}
local first_eval = held_out_loss()
for step = 1, steps do
  if position + T > per_stream then position, h, c = 1, nil, nil end  -- wrap: fresh state
  local x = inputs:narrow(1, position, T)
  local y = targets:narrow(1, position, T):reshape{T * N}
  position = position + T
  local logits
  logits, h, c = forward(x, h, c)
  local loss = loss_fn(logits, y)
  opt:zero_grad()
  loss:backward()
  norms[#norms + 1] = optim.clip_grad_norm(model:parameters(), 1.0)
  opt:step()
  h, c = h:detach(), c:detach()  -- truncated BPTT: the next step starts from these values
  xs[#xs + 1], train_losses[#train_losses + 1] = step, loss:item()
  if step % 10 == 0 or step == steps then
    local v = held_out_loss()
    plateau:step(v)
    eval_xs[#eval_xs + 1], eval_losses[#eval_losses + 1] = step, v
    lab.log{step = step, loss = loss:item(), val_loss = v, lr = plateau.lr}
    print(string.format('step %4d  loss %.3f  held-out %.3f  lr %.4g', step, loss:item(), v, plateau.lr))
  end
end
local final = eval_losses[#eval_losses]
print(string.format('held-out loss: %.3f before training, %.3f after %d steps (uniform: %.3f, the text\'s entropy: %.3f)',
  first_eval, final, steps, math.log(V), floor))
assert(final < first_eval, 'the held-out loss did not fall')
if not smoke then
  assert(final < threshold, string.format('held-out loss %.3f is not below %.2f', final, threshold))
end

-- Greedy continuation of a prompt, one character at a time, carrying the state.
local prompt, out = 'the cats ', {}
tensor.no_grad(function()
  model:eval()
  local p = {}
  for i = 1, #prompt do p[i] = index[prompt:sub(i, i)] end
  local logits, hs, cs = forward(tensor.from(p):view(-1, 1))
  local next_id = logits[#p]:argmax():item()
  for _ = 1, 60 do
    out[#out + 1] = chars[next_id]
    logits, hs, cs = forward(tensor.from{{next_id}}, hs, cs)
    next_id = logits[1]:argmax():item()
  end
end)
print('sample: ' .. prompt .. table.concat(out))

report.section('Character LSTM')
report.text(string.format('Embedding(%d, %d) → LSTM(%d, %d, 2 layers) → Linear(%d, %d); BPTT length %d, %d streams; Adam, gradient norm clipped at 1, ReduceLROnPlateau on the held-out loss.', V, E, E, H, H, V, T, N))
report.plot{title = 'Loss', xlabel = 'step', ylabel = 'cross-entropy (nats/char)',
  series = {{name = 'train', x = xs, y = train_losses}, {name = 'held out', x = eval_xs, y = eval_losses}}}
report.text(string.format('Held-out loss %.3f after %d steps (threshold %.2f in a full run; uniform guessing %.3f; the text\'s entropy %.3f nats/char).', final, steps, threshold, math.log(V), floor))
report.text('Greedy sample: `' .. prompt .. table.concat(out) .. '`')
