/// The Winograd steps of `ConvPlan` for whichever variant the plan runs: F(2×2, 3×3)
/// (`Winograd`) or F(4×4, 3×3) (`Winograd4`), same arguments and layouts.
extension ConvPlan {
  func transformWeights(
    _ weight: UnsafePointer<Float>, outChannels: Int, inChannels: Int, transposed: Bool,
    into u: UnsafeMutablePointer<Float>
  ) {
    if winograd4 {
      Winograd4.transformWeights(
        weight, outChannels: outChannels, inChannels: inChannels, transposed: transposed,
        into: u)
    } else {
      Winograd.transformWeights(
        weight, outChannels: outChannels, inChannels: inChannels, transposed: transposed,
        into: u)
    }
  }

  func addWeightGradient(
    _ du: UnsafePointer<Float>, outChannels: Int, inChannels: Int,
    into dw: UnsafeMutablePointer<Float>
  ) {
    if winograd4 {
      Winograd4.addWeightGradient(du, outChannels: outChannels, inChannels: inChannels, into: dw)
    } else {
      Winograd.addWeightGradient(du, outChannels: outChannels, inChannels: inChannels, into: dw)
    }
  }

  func transformInput(
    _ g: ConvGeometry, channels: Int, images: UnsafePointer<Float>, count: Int,
    into v: UnsafeMutablePointer<Float>, rowStride: Int, rows: UnsafeMutablePointer<Float>
  ) {
    if winograd4 {
      Winograd4.transformInput(
        g, channels: channels, images: images, count: count, into: v, rowStride: rowStride,
        rows: rows)
    } else {
      Winograd.transformInput(
        g, channels: channels, images: images, count: count, into: v, rowStride: rowStride,
        rows: rows)
    }
  }

  func transformOutput(
    _ g: ConvGeometry, channels: Int, _ m: UnsafePointer<Float>, rowStride: Int, count: Int,
    bias: UnsafePointer<Float>?, into output: UnsafeMutablePointer<Float>,
    rows: UnsafeMutablePointer<Float>
  ) {
    if winograd4 {
      Winograd4.transformOutput(
        g, channels: channels, m, rowStride: rowStride, count: count, bias: bias, into: output,
        rows: rows)
    } else {
      Winograd.transformOutput(
        g, channels: channels, m, rowStride: rowStride, count: count, bias: bias, into: output,
        rows: rows)
    }
  }

  func transformGradient(
    _ g: ConvGeometry, channels: Int, _ gradOutput: UnsafePointer<Float>, count: Int,
    into z: UnsafeMutablePointer<Float>, rowStride: Int, rows: UnsafeMutablePointer<Float>
  ) {
    if winograd4 {
      Winograd4.transformGradient(
        g, channels: channels, gradOutput, count: count, into: z, rowStride: rowStride,
        rows: rows)
    } else {
      Winograd.transformGradient(
        g, channels: channels, gradOutput, count: count, into: z, rowStride: rowStride,
        rows: rows)
    }
  }
}
