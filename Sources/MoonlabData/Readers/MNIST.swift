import Foundation

/// MNIST in the IDX format (http://yann.lecun.com/exdb/mnist/): big-endian headers, magic
/// 0x00000803 for images (count, rows, cols, then bytes) and 0x00000801 for labels (count,
/// then bytes). Files may be gzipped (the usual .gz) or plain.
public enum MNIST {
  public static let classes = (0...9).map(String.init)
  public static let fileNames = [
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
  ]

  /// Reads a split from `folder`, taking `NAME.gz` or plain `NAME` for each file.
  public static func load(split: String, folder: URL) throws -> Dataset {
    let f = try files(split: split, in: folder)
    return try load(images: f[0], labels: f[1])
  }

  /// The images and the labels file of a split in `folder`.
  public static func files(split: String, in folder: URL) throws -> [URL] {
    let prefix: String
    switch split {
    case "train": prefix = "train"
    case "test": prefix = "t10k"
    default: throw DataError("mnist: split must be 'train' or 'test', got '\(split)'")
    }
    return [
      try find("\(prefix)-images-idx3-ubyte", in: folder),
      try find("\(prefix)-labels-idx1-ubyte", in: folder),
    ]
  }

  static func find(_ name: String, in folder: URL) throws -> URL {
    for candidate in [name + ".gz", name] {
      let url = folder.appendingPathComponent(candidate)
      if FileManager.default.fileExists(atPath: url.path) { return url }
    }
    throw DataError("mnist: \(folder.appendingPathComponent(name).path)(.gz) is missing")
  }

  public static func load(images: URL, labels: URL) throws -> Dataset {
    let imageName = images.lastPathComponent
    let labelName = labels.lastPathComponent
    let img = try Gzip.readMaybeCompressed(images, what: "mnist: \(imageName)")
    let lab = try Gzip.readMaybeCompressed(labels, what: "mnist: \(labelName)")
    let ih = try header(img, magic: 0x803, dims: 3, what: "mnist: \(imageName)")
    let lh = try header(lab, magic: 0x801, dims: 1, what: "mnist: \(labelName)")
    let (n, rows, cols) = (ih[0], ih[1], ih[2])
    guard rows > 0, cols > 0, rows <= 1024, cols <= 1024 else {
      throw DataError("mnist: \(imageName): image size \(rows)×\(cols) is not plausible")
    }
    let imageBytes = 16 + n * rows * cols
    guard img.count == imageBytes else {
      throw DataError(
        "mnist: \(imageName): header says \(n) images of \(rows)×\(cols) (\(imageBytes) bytes) but the file has \(img.count) bytes (\(img.count < imageBytes ? "truncated" : "trailing data"))"
      )
    }
    guard lab.count == 8 + lh[0] else {
      throw DataError(
        "mnist: \(labelName): header says \(lh[0]) labels but the file has \(lab.count - 8) (\(lab.count < 8 + lh[0] ? "truncated" : "trailing data"))"
      )
    }
    guard lh[0] == n else {
      throw DataError("mnist: \(labelName) has \(lh[0]) labels but \(imageName) has \(n) images")
    }
    var targets: [Float] = []
    targets.reserveCapacity(n)
    for (k, b) in lab.dropFirst(8).enumerated() {
      guard b < 10 else {
        throw DataError("mnist: \(labelName): label \(k + 1) is \(b), expected 0…9")
      }
      targets.append(Float(b))
    }
    return try Dataset(
      name: "mnist", sampleShape: [1, rows, cols], storage: .bytes([UInt8](img.dropFirst(16))),
      targets: targets,
      classes: classes)
  }

  /// The magic number's check and the `dims` big-endian sizes that follow it.
  static func header(_ data: Data, magic: UInt32, dims: Int, what: String) throws -> [Int] {
    let size = 4 * (1 + dims)
    guard data.count >= size else {
      throw DataError("\(what): file of \(data.count) bytes is too short for an IDX header")
    }
    func word(_ k: Int) -> UInt32 {
      let b = data.startIndex + 4 * k
      return UInt32(data[b]) << 24 | UInt32(data[b + 1]) << 16 | UInt32(data[b + 2]) << 8
        | UInt32(data[b + 3])
    }
    guard word(0) == magic else {
      throw DataError(
        "\(what): wrong magic number 0x\(String(word(0), radix: 16)), expected 0x\(String(magic, radix: 16)) (\(dims == 3 ? "images" : "labels") file)"
      )
    }
    return (1...dims).map { Int(word($0)) }
  }
}
