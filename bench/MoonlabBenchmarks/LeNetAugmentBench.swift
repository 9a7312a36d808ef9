import Foundation
import MoonlabData
import MoonlabNN
import MoonlabTensor

/// A LeNet training epoch (10,000 CIFAR-10 images, or the bundled sample's 1,000 without
/// a data root; batch 64, SGD) with augmentation on
/// (PadCrop + HFlip + Normalize) and off (Normalize only), prefetch 2: the worker thread
/// should hide the augmentation. Target: on ≤ 5 % slower than off.
enum LeNetAugmentBench {
  static func run() throws {
    let all = try DataRoot.cifar10(split: "train", root: nil)
    let ds = try all.subset(0..<min(10_000, all.count))
    let normalize = try Normalize(mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616])
    let on = Transform([
      .batch(try PadCrop(pad: 4, size: 32)), .batch(try HFlip(p: 0.5)), .batch(normalize),
    ])
    let off = Transform(normalize)
    var times: [Bool: [Double]] = [true: [], false: []]
    // Interleaved, so drift in the machine's load hits both alike.
    for round in 0..<6 {
      for augment in [false, true] {
        let t = try epoch(ds, augment ? on : off)
        if round > 0 { times[augment, default: []].append(t) }
      }
    }
    func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
    let tOn = median(times[true] ?? [])
    let tOff = median(times[false] ?? [])
    Timing.report(
      "lenet_augment_overhead", (tOn / tOff - 1) * 100, "%",
      String(
        format:
          "epoch of %d images: %.2f s with augmentation, %.2f s without, %d threads, prefetch 2",
        ds.count, tOn, tOff, RunContext.current.threads))
  }

  static func epoch(_ ds: Dataset, _ transform: Transform) throws -> Double {
    let model = Sequential([
      try Conv2d(3, 6, kernelSize: 5), ReLU(), try MaxPool2d(2), try Conv2d(6, 16, kernelSize: 5),
      ReLU(),
      try MaxPool2d(2), Flatten(), try Linear(400, 120), ReLU(), try Linear(120, 84), ReLU(),
      try Linear(84, 10),
    ])
    let loss = CrossEntropyLoss()
    let opt = try SGD(model.parameters(), lr: 0.01, momentum: 0.9)
    var o = Loader.Options()
    o.batchSize = 64
    o.shuffle = true
    o.seed = 1
    o.transform = transform
    o.prefetch = 2
    let loader = try Loader(ds, o)
    let t0 = Timing.now()
    let batches = loader.nextEpoch()
    while let b = try batches.next() {
      opt.zeroGrad()
      try loss(try model(b.x), b.y).backward()
      try opt.step()
    }
    return Timing.now() - t0
  }
}
