/// Checks the tape's gradients of `f` against central finite differences.
///
/// The output may have any shape: both sides differentiate L = Σ v ⊙ f(inputs) for a
/// fixed random projection v (seeded, so a failure reproduces), which catches errors a
/// plain sum would average away. In float32 the difference quotient's rounding error is
/// about ε_mach·|L|/eps, so eps = 1e-3 keeps it near 1e-4 while the truncation error
/// (∝ eps²) stays smaller still; tolerances are set accordingly. Keep inputs away from
/// kinks (relu, abs, max) by more than eps.
///
/// The inputs are used through leaf views sharing their storage (each perturbed and
/// restored in place), so the caller's tensors and their grads are left as they were.
/// `parameters` are tensors `f` reaches by itself (a layer's weights): their gradients are
/// checked too, each perturbed and restored in place, their `grad` put back afterwards.
public func gradcheck(
  _ f: ([Tensor]) throws -> Tensor, inputs: [Tensor], parameters: [Tensor] = [],
  eps: Float = 1e-3, atol: Float = 1e-3, rtol: Float = 1e-2
) throws -> (ok: Bool, maxError: Float) {
  let leaves = inputs.map { x -> Tensor in
    let leaf = x.detach()
    leaf.requiresGrad = true
    return leaf
  }
  let savedGrads = parameters.map(\.grad)
  defer { for (p, g) in zip(parameters, savedGrads) { p.grad = g } }
  for p in parameters { p.grad = nil }
  let y = try f(leaves)
  let projection = Tensor(uninitialized: y.shape)
  let generator = Generator(seed: 0, stream: "gradcheck")
  for i in 0..<projection.count { projection.data[i] = generator.uniform() * 2 - 1 }
  if y.requiresGrad { try y.backward(projection) }

  // L(inputs) = Σ v ⊙ f(inputs), in Double so the projection adds no rounding of its own.
  func loss() throws -> Double {
    let out = try Autograd.noGrad { try f(leaves) }
    guard out.shape == y.shape else {
      throw TensorError(
        "gradcheck: the function's output shape changed from \(describeShape(y.shape)) to \(describeShape(out.shape))"
      )
    }
    var total: Double = 0
    for i in 0..<out.count { total += Double(out.data[i]) * Double(projection.data[i]) }
    return total
  }

  var ok = true
  var maxError: Float = 0
  for leaf in leaves + parameters {
    let analytic = leaf.grad
    for i in 0..<leaf.count {
      let saved = leaf.data[i]
      defer { leaf.data[i] = saved }
      leaf.data[i] = saved + eps
      let plus = try loss()
      leaf.data[i] = saved - eps
      let minus = try loss()
      let numeric = Float((plus - minus) / (2 * Double(eps)))
      let a = analytic?.data[i] ?? 0
      let error = Swift.abs(a - numeric)
      if !(error <= atol + rtol * Swift.abs(numeric)) { ok = false }
      if error > maxError || error.isNaN { maxError = error }
    }
  }
  return (ok, maxError)
}
