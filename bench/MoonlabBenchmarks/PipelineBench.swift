import Foundation
import MoonlabData
import MoonlabTensor

/// The CIFAR augmentation pipeline (gather bytes → floats, PadCrop{4,32}, HFlip{0.5},
/// Normalize) into float NCHW batches of 256, on one core (prefetch 0: the caller's
/// thread does all the work). Target: ≥ 50,000 images/s.
enum PipelineBench {
  static func run() throws {
    let ds = try DataRoot.cifar10(split: "train", root: nil)
    var o = Loader.Options()
    o.batchSize = 256
    o.shuffle = true
    o.seed = 1
    o.prefetch = 0
    o.transform = Transform([
      .batch(try PadCrop(pad: 4, size: 32)), .batch(try HFlip(p: 0.5)),
      .batch(try Normalize(mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616])),
    ])
    let loader = try Loader(ds, o)
    let batches = min(loader.count, 40)
    var images = 0
    let seconds = try Timing.median {
      let epoch = loader.nextEpoch()
      images = 0
      for _ in 0..<batches { images += try epoch.next()?.x.shape[0] ?? 0 }
    }
    o.transform = nil
    let plain = try Loader(ds, o)
    let gatherSeconds = try Timing.median {
      let epoch = plain.nextEpoch()
      for _ in 0..<batches { _ = try epoch.next() }
    }
    Timing.report(
      "pipeline", Double(images) / seconds, "images/s",
      String(
        format: "PadCrop+HFlip+Normalize, batch 256, one core; gather alone %.0f images/s",
        Double(images) / gatherSeconds))
  }
}
