import Foundation

/// `moonlab data info`: which datasets are found where, with their image counts, read
/// from file sizes and headers (cheap; the readers validate fully when a script loads).
public enum DataInfo {
  public static func report(root: String?) -> [String] {
    var lines: [String] = []
    let roots = root.map { [URL(fileURLWithPath: $0)] } ?? DataRoot.candidates()
    for r in roots {
      lines.append(
        "root \(r.path)\(FileManager.default.fileExists(atPath: r.path) ? "" : " (missing)")")
      for name in ["cifar10", "mnist"] {
        let folder = r.appendingPathComponent(name)
        guard DataRoot.isComplete(name, folder) else {
          lines.append("  \(name): not found")
          continue
        }
        lines.append("  \(name): \(folder.path): " + counts(name, folder))
      }
    }
    if let sample = Sample.cifar10Folder() {
      lines.append(
        "bundled CIFAR-10 sample: \(sample.path) (used when no default root has cifar10)")
    } else {
      lines.append("bundled CIFAR-10 sample: not found")
    }
    lines.append(
      "used by default: cifar10 from \(DataRoot.folder("cifar10", root: root)?.path ?? "the bundled sample"), mnist from \(DataRoot.folder("mnist", root: root)?.path ?? "nowhere")"
    )
    return lines
  }

  static func counts(_ name: String, _ folder: URL) -> String {
    if name == "cifar10" {
      func records(_ files: [URL]) -> String {
        let bytes = files.map {
          ((try? FileManager.default.attributesOfItem(atPath: $0.path))?[.size] as? Int) ?? 0
        }
        let total = bytes.reduce(0, +)
        return total % CIFAR10.recordSize == 0 ? "\(total / CIFAR10.recordSize)" : "? (bad size)"
      }
      let train = (try? CIFAR10.files(split: "train", in: folder)) ?? []
      return
        "train \(records(train)), test \(records([folder.appendingPathComponent("test_batch.bin")]))"
    }
    func labels(_ file: String) -> String {
      guard let url = try? MNIST.find(file, in: folder),
        let data = try? Gzip.readMaybeCompressed(url, what: file),
        let h = try? MNIST.header(data, magic: 0x801, dims: 1, what: file)
      else { return "? (unreadable)" }
      return "\(h[0])"
    }
    return "train \(labels("train-labels-idx1-ubyte")), test \(labels("t10k-labels-idx1-ubyte"))"
  }
}
