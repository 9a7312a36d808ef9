import MoonlabTensor

/// `tensor.pad(x, pads, {mode =, value =})` and `x:pad(pads, {…})`: PyTorch's
/// `F.pad`, pads listed last dimension first (docs/tensor.md, "Padding").
enum TensorPad {
  static func methods() -> [String: LuaFunction] {
    [
      "pad": { lua in
        let t = try lua.tensor(1, "pad")
        let pads = try lua.integerList(2, "pad")
        try lua.checkOptions(3, "pad", allowed: ["mode", "value"])
        let name = try lua.stringOption(3, "mode", "pad") ?? "constant"
        guard let mode = Tensor.PadMode(rawValue: name) else {
          throw LuaError(
            "pad: mode must be 'constant', 'reflect' or 'replicate', got '\(name)'")
        }
        let value = try lua.numberOption(3, "value", "pad") ?? 0
        guard value == 0 || mode == .constant else {
          throw LuaError("pad: option 'value' only applies to mode 'constant', not '\(name)'")
        }
        return TensorLibrary.pushed(lua, try t.pad(pads, mode: mode, value: Float(value)))
      }
    ]
  }
}
