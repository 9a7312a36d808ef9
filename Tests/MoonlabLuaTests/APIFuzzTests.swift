import MoonlabLua
import MoonlabTensor
import XCTest

/// Random calls over the nn, optim and data libraries and the module methods — random
/// arguments (NaN, ±inf, huge and negative sizes, wrong types), modules forwarded on
/// random tensors, containers added into each other (cycles), calls made inside
/// coroutines and nested pcalls — after the tensor fuzzer's pattern. Passing means no
/// crash and the state still works. The test command runs 20,000 calls;
/// MOONLAB_FUZZ_CALLS sets more for the long run, MOONLAB_FUZZ_SEED another random sequence.
final class APIFuzzTests: XCTestCase {
  static let script = """
    local calls_wanted, seed = ...
    math.randomseed(seed)
    local R = math.random

    local function rshape()
      local s = {}
      for i = 1, R(1, 4) do s[i] = R(0, 4) end
      return s
    end
    local function rtensor()
      local k = R(1, 5)
      if k == 1 then return tensor.randn{R(1, 3), R(1, 8)}
      elseif k == 2 then return tensor.randn{R(1, 2), R(1, 4), R(1, 9), R(1, 9)}
      elseif k == 3 then return tensor.zeros(rshape())
      elseif k == 4 then return tensor.randn{R(1, 3), R(1, 4)}:requires_grad_()
      else return tensor.from{R(1, 3), R(1, 2)} end
    end
    local odd = {0, -1, -7, 0.5, 1e300, 0/0, math.huge, -math.huge, 2^40, math.mininteger, "3", "x", true, false}
    local function rnum()
      if R() < 0.7 then return R(1, 6) end
      return odd[R(1, #odd)]
    end
    local modules = {}
    local function rmodule()
      if #modules > 0 and R() < 0.5 then return modules[R(1, #modules)] end
      return nil
    end
    local rvalue
    local function roptions()
      local keys = {"bias", "padding", "stride", "momentum", "eps", "lr", "weight_decay", "betas", "nesterov",
        "batch_size", "shuffle", "seed", "drop_last", "p", "pad", "size", "mean", "std", "nonlinearity", "bogus",
        "num_layers", "batch_first", "padding_idx", "output_padding", "scale_factor", "mode", "approximate",
        "elementwise_affine", "affine", "beta", "threshold", "label_smoothing", "weight", "reduction", "delta",
        "log_target", "alpha", "centered", "lr_decay", "factor", "patience", "cooldown", "min_lr", "gamma",
        "max_lr", "total_steps", "epochs", "steps_per_epoch", "start_factor", "end_factor", "milestones"}
      local t = {}
      for i = 1, R(0, 3) do t[keys[R(1, #keys)]] = rvalue() end
      return t
    end
    rvalue = function()
      local k = R(1, 9)
      if k <= 2 then return rnum()
      elseif k == 3 then return rtensor()
      elseif k == 4 then return rmodule()
      elseif k == 5 then return roptions()
      elseif k == 6 then return rshape()
      elseif k == 7 then return nil
      elseif k == 8 then return function(x) return x end
      else return {rtensor(), rtensor()} end
    end

    local nn_names = {}
    for name, f in pairs(nn) do if type(f) == "function" then nn_names[#nn_names + 1] = name end end
    table.sort(nn_names)
    local constructors = {
      function() return nn.Linear(rnum(), rnum(), R() < 0.3 and roptions() or nil) end,
      function() return nn.Conv2d(rnum(), rnum(), rnum(), R() < 0.5 and roptions() or nil) end,
      function() return nn.MaxPool2d(rnum(), R() < 0.3 and rnum() or nil) end,
      function() return nn.AvgPool2d(rnum()) end,
      function() return nn.BatchNorm1d(rnum(), R() < 0.3 and roptions() or nil) end,
      function() return nn.BatchNorm2d(rnum(), R() < 0.3 and roptions() or nil) end,
      function() return nn.ReLU() end, function() return nn.Sigmoid() end, function() return nn.Tanh() end,
      function() return nn.Softmax(rnum()) end, function() return nn.Dropout(R() < 0.7 and R() or rnum()) end,
      function() return nn.Flatten() end, function() return nn.Identity() end,
      function() return nn.Sequential{rmodule() or nn.ReLU(), rmodule() or nn.Identity()} end,
      function() return nn.Residual(rmodule() or nn.Identity(), rmodule()) end,
      function() return nn.RNN(rnum(), rnum(), R() < 0.3 and roptions() or nil) end,
      function()  -- initializers change parameters in place, maybe between forward and backward
        local m = rmodule() or nn.Linear(2, 2)
        local y = R() < 0.5 and m(rtensor()) or nil
        local p = m:parameters()[1] or rtensor()
        local init = ({nn.init.normal, nn.init.msra, nn.init.xavier, nn.init.zeros, nn.init.constant})[R(1, 5)]
        init(p, rvalue())
        if y then y:sum():backward() end
        return m
      end,
      function() return nn.CrossEntropyLoss(R() < 0.5 and roptions() or nil) end, function() return nn.MSELoss() end,
      function() return nn.BCELoss() end, function() return nn.BCEWithLogitsLoss() end,
      -- Layers with plausible sizes, so their forward and backward run often.
      function() return nn.Embedding(rnum(), rnum(), R() < 0.3 and roptions() or nil) end,
      function() return ({nn.LSTM, nn.GRU, nn.RNN})[R(1, 3)](rnum(), rnum(), R() < 0.5 and roptions() or nil) end,
      function() return nn.LayerNorm(R() < 0.7 and rnum() or rshape(), R() < 0.3 and roptions() or nil) end,
      function() return nn.GroupNorm(rnum(), rnum(), R() < 0.3 and roptions() or nil) end,
      function() return nn.Conv1d(rnum(), rnum(), rnum(), R() < 0.5 and roptions() or nil) end,
      function() return nn.ConvTranspose2d(rnum(), rnum(), rnum(), R() < 0.5 and roptions() or nil) end,
      function() return nn.AdaptiveAvgPool2d(R() < 0.7 and rnum() or rshape()) end,
      function() return nn.Upsample(roptions()) end, function() return nn.Dropout2d(R() < 0.7 and R() or rnum()) end,
      function() return ({nn.GELU, nn.SiLU, nn.LeakyReLU, nn.ELU, nn.Softplus, nn.LogSoftmax})[R(1, 6)](rvalue()) end,
      function() return nn.ModuleList{rmodule() or nn.ReLU(), rmodule() or nn.Identity()} end,
      function() return nn.ModuleDict{a = rmodule() or nn.ReLU(), b = rmodule() or nn.Tanh()} end,
      function() return ({nn.NLLLoss, nn.SmoothL1Loss, nn.HuberLoss, nn.KLDivLoss})[R(1, 4)](R() < 0.5 and roptions() or nil) end,
      -- Any constructor there is, with random arguments.
      function() local name = nn_names[R(1, #nn_names)]; return nn[name](rvalue(), rvalue(), rvalue()) end,
    }
    local method_names = {"forward", "parameters", "named_parameters", "num_parameters", "train", "eval",
      "zero_grad", "add", "get", "tostring", "len", "apply", "summary", "loss", "freeze", "unfreeze", "append"}
    local function method(m)
      local name = method_names[R(1, #method_names)]
      if name == "forward" then return m(rtensor())
      elseif name == "loss" then return m(rtensor(), rtensor())
      elseif name == "tostring" then return tostring(m)
      elseif name == "len" then return #m
      elseif name == "add" or name == "append" then return m[name](m, R() < 0.3 and m or (rmodule() or nn.ReLU()))
      elseif name == "get" then return m:get(rnum())
      elseif name == "apply" then return m:apply(function(x) return x end)
      elseif name == "summary" then return nn.summary(m, rshape())
      elseif name == "train" then return m:train(R() < 0.5)
      else return m[name](m) end
    end
    local function optimizer()
      local m = rmodule() or nn.Linear(3, 2)
      local params = R() < 0.8 and m:parameters() or rvalue()
      if R() < 0.2 then params = {{params = params, lr = rnum()}, {params = rvalue()}} end
      local make = ({optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad})[R(1, 5)]
      local opt = make(params, R() < 0.8 and {lr = R() < 0.8 and 0.01 or rnum()} or roptions())
      local k = R(1, 6)
      if k == 1 then
        local loss = m(tensor.randn{2, 3}):sum()
        loss:backward()
        opt:step()
      elseif k == 2 then opt:zero_grad()
      elseif k == 3 then
        local s = ({optim.StepLR, optim.MultiStepLR, optim.CosineLR, optim.Warmup, optim.ExponentialLR,
          optim.LinearLR, optim.OneCycleLR})[R(1, 7)](opt, roptions())
        s:step(); return s:get_lr()
      elseif k == 4 then
        local plateau = optim.ReduceLROnPlateau(opt, roptions())
        for _ = 1, R(1, 4) do plateau:step(rnum()) end
        return plateau.lr
      elseif k == 5 then
        local clip = R() < 0.5 and optim.clip_grad_norm or optim.clip_grad_value
        local ema = optim.EMA(R() < 0.7 and m or rvalue(), R() < 0.7 and 0.9 or rnum())
        ema:update(); ema:apply(); ema:restore()
        return clip(params, rnum(), R() < 0.3 and rnum() or nil)
      else return tostring(opt) end
    end
    local function dataset()
      local k = R(1, 5)
      local ds
      if k == 1 then ds = data.tensors(rtensor(), rtensor())
      elseif k == 2 then ds = data.synth{n = rnum(), seed = rnum(), kind = ({"moons", "circles", "spirals", "blobs", "x"})[R(1, 5)]}
      elseif k == 3 then ds = data.tensors(tensor.randn{8, 3, 6, 6}, tensor.ones{8})
      else ds = data.tensors(tensor.randn{6, 2}, tensor.ones{6}) end
      local t = ({data.PadCrop, data.HFlip, data.Normalize, data.Lambda, data.Compose, data.AlternatingFlip})[R(1, 6)]
      local transform
      if R() < 0.5 then transform = t(R() < 0.5 and roptions() or rvalue()) end
      local loader = data.Loader(ds, {batch_size = R() < 0.8 and R(1, 4) or rnum(), shuffle = R() < 0.5, transform = transform})
      local n = 0
      for x, y in loader:batches() do n = n + 1; if n > 3 then break end end
      if R() < 0.3 then return ds:get(rnum()), ds:subset(rnum(), rnum()), #ds end
      return n
    end

    local total, errors = 0, 0
    local function one()
      local k = R(1, 10)
      if k <= 3 then
        local m = constructors[R(1, #constructors)]()
        if #modules < 40 then modules[#modules + 1] = m else modules[R(1, #modules)] = m end
      elseif k <= 6 then
        local m = rmodule()
        if m then return method(m) end
      elseif k <= 8 then return optimizer()
      else return dataset() end
    end
    -- Each call plain, inside a coroutine (resumed, or wrapped and left suspended), or
    -- under nested pcalls.
    local function wrapped()
      local how = R(1, 4)
      if how == 1 then return pcall(one)
      elseif how == 2 then return coroutine.resume(coroutine.create(function() coroutine.yield(one()) end))
      elseif how == 3 then return pcall(coroutine.wrap(function() return one() end))
      else return pcall(pcall, function() return pcall(one) end) end
    end
    while total < calls_wanted do
      local ok = wrapped()
      total = total + 1
      if not ok then errors = errors + 1 end
      if total % 1000 == 0 then collectgarbage() end
    end
    return total, errors
    """

  func testRandomAPICallsNeverCrash() throws {
    let calls = Int(ProcessInfo.processInfo.environment["MOONLAB_FUZZ_CALLS"] ?? "") ?? 20_000
    // 1 GB of tensors: random sizes hit the limit's error quickly instead of paging.
    let host = try LuaHost(options: .init(memoryLimitBytes: 1 << 30))
    try host.load(Data(Self.script.utf8), chunkname: "=apifuzz")
    Lua(host.state).push(calls)
    Lua(host.state).push(
      Int(ProcessInfo.processInfo.environment["MOONLAB_FUZZ_SEED"] ?? "") ?? 20_261_201)
    try host.call(arguments: 2, results: 2)
    let lua = Lua(host.state)
    let total = try lua.integer(-2, "fuzz")
    let errors = try lua.integer(-1, "fuzz")
    lua.pop(2)
    print("api fuzz: \(total) calls, \(errors) raised Lua errors, 0 crashes")
    XCTAssertGreaterThanOrEqual(total, calls)
    XCTAssertGreaterThan(errors, total / 20, "random calls should often be rejected")
    XCTAssertLessThan(errors, total, "some random calls should succeed")
    XCTAssertTrue(Autograd.isEnabled, "grad mode is back on")
    XCTAssertEqual(try host.run("return nn.Linear(2, 3)(tensor.ones{1, 2}):numel()"), ["3"])
  }
}
