import Foundation
import TestSupport
import XCTest

@testable import MoonlabLab

/// A misspelt option is an error naming the function, the key and the allowed keys, at
/// the script's line, in every library that takes an options table; nothing is ignored.
final class OptionTableTests: XCTestCase {
  func testMisspeltOptionsAreErrors() throws {
    let folder = try TestPaths.temporaryDirectory()
    let prelude = """
      local ds = data.tensors(tensor.zeros{4, 2}, tensor.zeros{4})
      local net = nn.Linear(2, 2)
      local opt = optim.SGD(net:parameters(), {lr = 0.1})

      """
    let cases: [(String, String)] = [
      (
        "nn.Conv2d(3, 6, 5, {paddng = 1})",
        "Conv2d: unknown option 'paddng' (expected bias, padding, stride)"
      ),
      ("nn.Linear(3, 6, {bais = false})", "Linear: unknown option 'bais' (expected bias)"),
      ("nn.BatchNorm2d(6, {momentm = 0.2})", "BatchNorm2d: unknown option 'momentm'"),
      ("nn.RNN(2, 3, {nonlinear = 'relu'})", "RNN: unknown option 'nonlinear'"),
      ("data.Loader(ds, {batch_sise = 2})", "Loader: unknown option 'batch_sise'"),
      ("data.PadCrop{pad = 4, sise = 32}", "PadCrop: unknown option 'sise'"),
      ("data.HFlip{prob = 0.5}", "HFlip: unknown option 'prob' (expected p)"),
      ("data.Normalize{mean = {0}, std = {1}, eps = 1}", "Normalize: unknown option 'eps'"),
      ("data.synth{n = 10, knd = 'moons'}", "synth: unknown option 'knd'"),
      ("data.cifar10{splt = 'test'}", "cifar10: unknown option 'splt'"),
      (
        "tensor.gradcheck(function(x) return x end, {tensor.zeros{1}}, {tol = 1})",
        "gradcheck: unknown option 'tol'"
      ),
      (
        "lab.fit{model = net, loss = nn.MSELoss(), optimizer = opt, train = data.Loader(ds), epoch = 3}",
        "lab.fit: unknown option 'epoch'"
      ),
      ("report.plot{series = {{y = {1}}}, titel = 'x'}", "report.plot: unknown option 'titel'"),
      (
        "report.plot{series = {{y = {1}, label = 'a'}}}",
        "report.plot series 1: unknown option 'label'"
      ),
      ("report.table({{1}}, {cols = {'a'}})", "report.table: unknown option 'cols'"),
      (
        "report.image(tensor.zeros{4, 4}, {caption = 'x'})",
        "report.image: unknown option 'caption'"
      ),
      (
        "lab.sweep{grid = {a = {1}}, metric = 'm', run = function() return {m = 1} end, jobs = 2}",
        "lab.sweep: unknown option 'jobs'"
      ),
    ]
    for (code, message) in cases {
      let script = try writeScript(prelude + code, "typo.lua", in: folder)
      XCTAssertThrowsError(
        try runInProcess(script, out: folder.appendingPathComponent("run-\(UUID().uuidString)"))
      ) {
        XCTAssertTrue("\($0)".contains(message), "\(code): \($0)")
        XCTAssertTrue("\($0)".contains("typo.lua:4:"), "\(code): \($0)")
      }
    }
  }
}
