import MoonlabLua
import MoonlabNN
import MoonlabTensor
import TestSupport
import XCTest

/// The Lua side of issue 14's layers (docs/nn.md): constructors and options, 1-based
/// indices and dimensions, LSTM/GRU states in and out, ModuleList/ModuleDict, sharing,
/// freezing, summary, and errors at the script's file:line.
final class NNLayerLibraryTests: XCTestCase {
  var host: LuaHost!

  override func setUpWithError() throws { host = try LuaHost() }

  func assertError(
    _ code: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertThrowsError(try host.run("local x = 1\n" + code, chunkname: "@layers.lua")) { e in
      let message = (e as? LuaError)?.message ?? "\(e)"
      XCTAssertTrue(
        message.hasPrefix("layers.lua:2: \(expected)"), "got: \(message)", file: file, line: line)
    }
  }

  func testConstructorsAndDescriptions() throws {
    let lines = try host.run(
      """
      return tostring(nn.GELU()), tostring(nn.GELU{approximate = 'tanh'}), tostring(nn.SiLU()),
        tostring(nn.LeakyReLU(0.2)), tostring(nn.ELU()), tostring(nn.Softplus{beta = 2}),
        tostring(nn.LogSoftmax(-1)), tostring(nn.Embedding(10, 3, {padding_idx = 1})),
        tostring(nn.LayerNorm({2, 3}, {elementwise_affine = false})),
        tostring(nn.LSTM(3, 4, {num_layers = 2, batch_first = true})), tostring(nn.GRU(3, 4))
      """)
    XCTAssertEqual(
      lines,
      [
        "GELU", "GELU(tanh)", "SiLU", "LeakyReLU(slope 0.2)", "ELU(alpha 1.0)",
        "Softplus(beta 2.0, threshold 20.0)", "LogSoftmax(dim -1)", "Embedding(10 x 3, padding 0)",
        "LayerNorm([2,3], no affine)", "LSTM(3 -> 4, 2 layers, batch first)", "GRU(3 -> 4)",
      ])
    XCTAssertEqual(
      try host.run(
        """
        local l = nn.LSTM(3, 4, {num_layers = 2})
        local names = {}
        for name, p in pairs(l:named_parameters()) do names[#names + 1] = name end
        return table.concat(names, ' '), l:num_parameters()
        """),
      [
        "weight_ih_l0 weight_hh_l0 bias_ih_l0 bias_hh_l0 weight_ih_l1 weight_hh_l1 bias_ih_l1 bias_hh_l1",
        "304",
      ])
  }

  func testActivationsAndLogSoftmaxFromLua() throws {
    XCTAssertEqual(
      try host.run(
        """
        local x = tensor.from{{-1, 0, 2}}
        local ls = nn.LogSoftmax(2)(x):exp():sum():item()
        return string.format('%.4f %.4f %.4f %.4f', nn.GELU()(x):sum():item(),
          nn.LeakyReLU(0.5)(x):sum():item(), ls, nn.Softplus{beta = 1, threshold = 1}(x):totable()[1][3])
        """), ["1.7958 1.5000 1.0000 2.0000"])
  }

  func testEmbeddingTakesOneBasedIndices() throws {
    XCTAssertEqual(
      try host.run(
        """
        local e = nn.Embedding(5, 2, {padding_idx = 5})
        local y = e(tensor.from{{1, 5}, {3, 3}})
        y:sum():backward()
        local t, w, g = y:totable(), e.weight:totable(), e.weight.grad:totable()
        return y:size(1), y:size(3), tostring(t[1][1][2] == w[1][2]), t[1][2][1], g[3][1], g[5][1],
          g[2][1]
        """), ["2", "2", "true", "0.0", "2.0", "0.0", "0.0"])
    assertError(
      "nn.Embedding(5, 2)(tensor.from{1, 6})", "Embedding: index 6.0 at position 2 is not in 1..5")
    assertError(
      "nn.Embedding(5, 2)(tensor.from{0})", "Embedding: index 0.0 at position 1 is not in 1..5")
    assertError("nn.Embedding(5, 2, {padding_idx = 0})", "Embedding: padding_idx 0 is not in 1..5")
    assertError("nn.Embedding(0, 2)", "Embedding: sizes must be positive, got 0 x 2")
  }

  func testLSTMStatesInAndOutForTruncatedBPTT() throws {
    let values = try host.run(
      """
      local lstm = nn.LSTM(3, 4, {num_layers = 2})
      local x = tensor.randn{5, 2, 3}
      local out, h, c = lstm(x)
      local o2, h2, c2 = lstm(x, {h:detach(), c:detach()})
      local o3, h3, c3 = lstm(x, h:detach(), c:detach())
      local same = (o2 - o3):abs():max():item() == 0 and (h2 - h3):abs():max():item() == 0
      local loss = o2:sum() + h2:sum() + c2:sum()
      loss:backward()
      local gru = nn.GRU(3, 4, {batch_first = true})
      local go, gh = gru(tensor.randn{2, 5, 3})
      local go2, gh2 = gru(tensor.randn{2, 5, 3}, gh)
      local rnn = nn.RNN(3, 4, {nonlinearity = 'relu', num_layers = 3})
      local ro, rh = rnn(tensor.randn{5, 2, 3}, tensor.zeros{3, 2, 4})
      return out:size(1), h:size(1), c:size(3), tostring(same),
        tostring(lstm.weight_hh_l1.grad ~= nil), go:size(2), gh:size(2), gh2:size(3), rh:size(1),
        tostring(rnn)
      """)
    XCTAssertEqual(
      values, ["5", "2", "4", "true", "true", "5", "2", "4", "3", "RNN(3 -> 4, 3 layers, relu)"])
    assertError(
      "nn.LSTM(3, 4)(tensor.zeros{5, 2, 3}, tensor.zeros{1, 3, 4}, tensor.zeros{1, 2, 4})",
      "LSTM: initial state 1 should be [1,2,4], got [1,3,4]")
    assertError(
      "nn.LSTM(3, 4)(tensor.zeros{5, 2, 3}, {tensor.zeros{1, 2, 4}})",
      "LSTM: element 2 of the state table is a nil, expected Tensor")
    assertError(
      "nn.GRU(3, 4, {batch_first = true})(tensor.zeros{5, 2, 2})",
      "GRU: expected a non-empty input [N,T,3], got [5,2,2]")
    assertError("nn.LSTM(3, 4, {layers = 2})", "LSTM: unknown option 'layers'")
    assertError("nn.GRU(3, 0)", "GRU: sizes and number of layers must be positive")
  }

  func testLayerNormOptionsAndErrors() throws {
    XCTAssertEqual(
      try host.run(
        """
        local ln = nn.LayerNorm(4, {eps = 1e-3})
        local y = ln(tensor.randn{3, 4})
        return string.format('%.4f', y:mean(2):abs():max():item()), #ln:parameters()
        """), ["0.0000", "2"])
    assertError(
      "nn.LayerNorm(4)(tensor.zeros{4, 3})", "LayerNorm: expected input [*, 4], got [4,3]")
    assertError(
      "nn.LayerNorm({})", "LayerNorm: normalized shape must be one or more positive sizes, got []")
    assertError(
      "nn.GELU{approximate = 'fast'}",
      "GELU: option 'approximate' must be 'none' or 'tanh', got 'fast'")
    assertError(
      "nn.LogSoftmax(0)",
      "bad argument #1 to 'LogSoftmax' (dimension 0 does not exist; dimensions count from 1)")
  }

  func testGroupNormPoolingUpsampleDropout2d() throws {
    XCTAssertEqual(
      try host.run(
        """
        local x = tensor.randn{2, 4, 5, 6}
        local y = nn.Sequential{nn.GroupNorm(2, 4, {eps = 1e-3}), nn.Dropout2d(0.2),
          nn.Upsample{scale_factor = 2}, nn.AdaptiveAvgPool2d{3, 2}}(x)
        local z = nn.AdaptiveAvgPool2d(1)(x)
        return table.concat(y:shape(), 'x'), table.concat(z:shape(), 'x'),
          tostring(nn.GroupNorm(2, 4, {affine = false})), tostring(nn.Upsample{scale_factor = 2})
        """),
      [
        "2x4x3x2", "2x4x1x1", "GroupNorm(2 groups, 4 channels, no affine)",
        "Upsample(scale 2.0, nearest)",
      ])
    assertError(
      "nn.GroupNorm(3, 4)", "GroupNorm: channels (4) must be a positive multiple of groups (3)")
    assertError(
      "nn.GroupNorm(2, 4)(tensor.zeros{2, 3, 4})", "GroupNorm: expected input [N,4,*], got [2,3,4]")
    assertError(
      "nn.Upsample{scale_factor = 2, mode = 'bilinear'}",
      "Upsample: only mode 'nearest' is supported, got 'bilinear'")
    assertError("nn.Upsample{}", "Upsample: option 'scale_factor' is required")
    assertError(
      "nn.AdaptiveAvgPool2d{1, 2, 3}",
      "AdaptiveAvgPool2d: output size must be n or {h, w}, got 3 numbers")
    assertError(
      "nn.AdaptiveAvgPool2d(0)", "AdaptiveAvgPool2d: output size must be positive, got 0x0")
    assertError(
      "nn.Dropout2d(0.5)(tensor.ones{2, 3})", "Dropout2d: expected input [N,C,H,W], got [2,3]")
    // Output sizes too large for memory are refused even for an empty batch, whose
    // output has no elements (the fuzzer found the per-row windows filling the memory).
    assertError(
      "nn.AdaptiveAvgPool2d(2^40)",
      "AdaptiveAvgPool2d: shape [1099511627776,1099511627776] is too large")
    assertError(
      "nn.Upsample{scale_factor = 2^40}(tensor.zeros{0, 1, 2, 2})",
      "Upsample: shape [2199023255552,2199023255552] is too large")
  }

  func testConv1dAndConvTranspose2d() throws {
    XCTAssertEqual(
      try host.run(
        """
        local up = nn.ConvTranspose2d(4, 2, 3, {stride = 2, padding = 1, output_padding = 1})
        local c = nn.Conv1d(4, 6, 5, {stride = 2, padding = 2, bias = false})
        return table.concat(up(tensor.randn{1, 4, 5, 6}):shape(), 'x'), tostring(up),
          table.concat(c(tensor.randn{3, 4, 20}):shape(), 'x'), tostring(c), c:num_parameters()
        """),
      [
        "1x2x10x12", "ConvTranspose2d(4 -> 2, kernel 3, stride 2, padding 1, output padding 1)",
        "3x6x10", "Conv1d(4 -> 6, kernel 5, stride 2, padding 2, no bias)", "120",
      ])
    assertError(
      "nn.Conv1d(4, 6, 5)(tensor.zeros{3, 4, 3})",
      "Conv1d: input [3,4,3] is shorter than the kernel 5 (padding 0)")
    assertError(
      "nn.Conv1d(4, 6, 5)(tensor.zeros{3, 4, 3, 3})",
      "Conv1d: expected input [N,4,L], got [3,4,3,3]")
    assertError(
      "nn.Conv1d(0, 6, 5)",
      "Conv1d: channels, kernel size and stride must be positive and padding ≥ 0, got 0 -> 6")
    assertError(
      "nn.ConvTranspose2d(4, 2, 3, {output_padding = 1})",
      "ConvTranspose2d: output padding must be in 0..<stride, got 1 with stride 1")
    assertError(
      "nn.ConvTranspose2d(4, 2, 1, {padding = 1})(tensor.zeros{1, 4, 1, 1})",
      "ConvTranspose2d: input [1,4,1,1] gives an empty output (-1x-1) with padding 1")
    assertError(
      "nn.ConvTranspose2d(4, 2, 3)(tensor.zeros{1, 3, 4, 4})",
      "ConvTranspose2d: expected input [N,4,H,W], got [1,3,4,4]")
    assertError(
      "nn.ConvTranspose2d(4, 2, 3, {dilation = 2})", "ConvTranspose2d: unknown option 'dilation'")
  }

  func testModuleListAndDict() throws {
    XCTAssertEqual(
      try host.run(
        """
        local list = nn.ModuleList{nn.Linear(2, 3), nn.ReLU()}
        list:append(nn.Linear(3, 1))
        local dict = nn.ModuleDict{encoder = nn.Linear(2, 2), head = nn.Linear(2, 1)}
        local names = {}
        for name in pairs(dict:named_parameters()) do names[#names + 1] = name end
        local y = list:get(3)(list:get(2)(list:get(1)(tensor.ones{4, 2})))
        local same = list[1].weight:size(1) == 3 and list[3].weight:size(1) == 1
        return #list, list:num_parameters(), table.concat(names, ' '), dict.head.weight:size(2),
          y:size(1), tostring(same)
        """), ["3", "13", "encoder.weight encoder.bias head.weight head.bias", "2", "4", "true"])
    assertError(
      "local _ = nn.ModuleList{nn.ReLU()}[2]",
      "get: index 2 out of range (ModuleList has 1 children)")
    assertError(
      "nn.ModuleList{nn.ReLU()}(tensor.ones{2})",
      "ModuleList: a container has no forward; call its modules (list:get(i))")
    assertError(
      "local _ = nn.Sequential{nn.ReLU()}[1.5]",
      "bad argument #2 to 'get' (number has no integer representation)")
    assertError(
      "nn.ModuleList{nn.ReLU(), 3}",
      "ModuleList: element 2 of the table is a number, expected Module")
    assertError(
      "nn.ModuleDict{a = nn.ReLU(), [1] = nn.ReLU()}",
      "ModuleDict: entry a number key is a Module; expected name = Module")
    assertError(
      "nn.ReLU():append(nn.ReLU())", "append: only a Sequential or ModuleList takes new modules")
  }

  func testSharedModulesCountOnceAndTrainWithAnOptimizer() throws {
    XCTAssertEqual(
      try host.run(
        """
        local shared = nn.Linear(3, 3)
        local model = nn.Sequential{shared, nn.Tanh(), shared}
        local opt = optim.SGD(model:parameters(), {lr = 0.1})
        local before = shared.weight:clone()
        model(tensor.ones{2, 3}):sum():backward()
        opt:step()
        local moved = (shared.weight - before):abs():sum():item() > 0
        local names = {}
        for name in pairs(model:named_parameters()) do names[#names + 1] = name end
        return #model:parameters(), model:num_parameters(), table.concat(names, ' '), tostring(moved)
        """), ["2", "12", "0.weight 0.bias", "true"])
  }

  func testFreezeStopsGradients() throws {
    XCTAssertEqual(
      try host.run(
        """
        local model = nn.Sequential{nn.Linear(2, 3), nn.LayerNorm(3), nn.Linear(3, 1)}
        model:get(1):freeze()
        local x = tensor.ones{4, 2}
        model(x):sum():backward()
        local frozen = model:get(1).weight.grad == nil and not model:get(1).weight.requires_grad
        local trained = model:get(2).weight.grad ~= nil and model:get(3).weight.grad ~= nil
        model:unfreeze()
        model(x):sum():backward()
        return tostring(frozen), tostring(trained), tostring(model:get(1).weight.grad ~= nil)
        """), ["true", "true", "true"])
  }

  func testSummaryOfNewLayers() throws {
    let text = try host.run(
      """
      print = function() end
      return nn.summary(nn.Sequential{nn.Linear(8, 16), nn.LayerNorm(16), nn.GELU(), nn.Linear(16, 4)}, {8})
      """)
    XCTAssertTrue(text[0].contains("LayerNorm([16])"), text[0])
    XCTAssertTrue(text[0].hasSuffix("total parameters: 244"), text[0])
    // A recurrent layer's row shows its output sequence.
    let rnn = try host.run(
      "print = function() end\nreturn nn.summary(nn.Sequential{nn.LSTM(3, 5), nn.Linear(5, 2)}, {7, 1, 3})"
    )
    XCTAssertTrue(rnn[0].contains("LSTM(3 -> 5)    [7,1,5]       200"), rnn[0])
  }
}
