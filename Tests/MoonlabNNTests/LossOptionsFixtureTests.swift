import MoonlabNN
import MoonlabTensor
import XCTest

/// Losses with options (weights, label smoothing, beta/delta, reductions) against PyTorch
/// (scripts/fixtures_training.py): values and the gradients of input and target, plus
/// gradcheck.
final class LossOptionsFixtureTests: XCTestCase {
  func make(_ name: String, _ o: [String: Any]) throws -> Loss {
    let reduction = Reduction(rawValue: o["reduction"] as? String ?? "mean") ?? .mean
    let weight = try o["weight"].map(FixtureCase.tensor)
    switch name {
    case _ where name.hasPrefix("ce"):
      return try CrossEntropyLoss(
        weight: weight, labelSmoothing: Float(o["label_smoothing"] as? Double ?? 0),
        reduction: reduction)
    case _ where name.hasPrefix("nll"): return try NLLLoss(weight: weight, reduction: reduction)
    case _ where name.hasPrefix("smooth_l1"):
      return try SmoothL1Loss(beta: Float(o["beta"] as? Double ?? 1), reduction: reduction)
    case _ where name.hasPrefix("huber"):
      return try HuberLoss(delta: Float(o["delta"] as? Double ?? 1), reduction: reduction)
    case _ where name.hasPrefix("kl_div"):
      return KLDivLoss(reduction: reduction, logTarget: o["log_target"] as? Bool ?? false)
    default: throw TensorError("unknown loss fixture \(name)")
    }
  }

  static let names = [
    "ce_weight", "ce_smoothing", "ce_weight_smoothing_sum", "ce_weight_smoothing_mean", "ce_none",
    "nll", "nll_weight", "nll_weight_none", "smooth_l1", "smooth_l1_beta", "smooth_l1_l1", "huber",
    "huber_delta_none", "kl_div", "kl_div_batchmean", "kl_div_log_target_sum",
  ]

  func testMatchesPyTorch() throws {
    for name in Self.names {
      let c = try FixtureCase.named(name)
      let loss = try make(name, c.raw["options"] as? [String: Any] ?? [:])
      let x = try XCTUnwrap(c.inputs().first)
      x.requiresGrad = true
      let target = try c.tensor("target")
      let hasTargetGrad = c.raw["grad_target"] != nil
      target.requiresGrad = hasTargetGrad
      let y = try loss(x, target)
      assertMatches(y, try c.tensor("output"), "\(name) loss")
      try (y.rank > 0 ? y.sum() : y).backward()
      assertMatches(try XCTUnwrap(x.grad), try c.tensor("grad_input"), "\(name) grad input")
      if hasTargetGrad {
        assertMatches(
          try XCTUnwrap(target.grad), try c.tensor("grad_target"), "\(name) grad target")
      }
    }
  }

  func testGradcheck() throws {
    for name in Self.names {
      let c = try FixtureCase.named(name)
      let loss = try make(name, c.raw["options"] as? [String: Any] ?? [:])
      let x = try XCTUnwrap(c.inputs().first)
      let target = try c.tensor("target")
      // Class labels aren't differentiable; elementwise losses are checked in both inputs.
      // The summed losses reach ~20, so float32 differences need a looser atol.
      let classes = loss is ClassLabelLoss
      let (ok, err) = try gradcheck(
        { try loss($0[0], classes ? target : $0[1]) }, inputs: classes ? [x] : [x, target],
        atol: 5e-3)
      XCTAssertTrue(ok, "\(name): max error \(err)")
    }
  }

  func testErrorsNameTheLoss() throws {
    let logits = Tensor(zeros: [2, 3])
    let labels = try Tensor(shape: [2], values: [0, 2])
    XCTAssertThrowsError(try CrossEntropyLoss(weight: Tensor(zeros: [2]))(logits, labels)) {
      XCTAssertTrue("\($0)".contains("CrossEntropyLoss: weight has shape [2]"), "\($0)")
    }
    XCTAssertThrowsError(try NLLLoss()(logits, try Tensor(shape: [2], values: [0, 3]))) {
      XCTAssertTrue("\($0)".contains("NLLLoss: label 3.0 of sample 2"), "\($0)")
    }
    XCTAssertThrowsError(try CrossEntropyLoss(weight: nil, labelSmoothing: 1.5))
    XCTAssertThrowsError(try SmoothL1Loss(beta: -1))
    XCTAssertThrowsError(try HuberLoss(delta: 0))
    XCTAssertThrowsError(try NLLLoss(reduction: .batchmean)) {
      XCTAssertTrue("\($0)".contains("only for KLDivLoss"), "\($0)")
    }
    XCTAssertThrowsError(try HuberLoss()(Tensor(zeros: [2]), Tensor(zeros: [3]))) {
      XCTAssertTrue("\($0)".contains("HuberLoss: input [2] and target [3]"), "\($0)")
    }
  }
}
