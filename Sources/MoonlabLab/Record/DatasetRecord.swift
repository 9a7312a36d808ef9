import Foundation
import MoonlabData

/// A dataset a run read, as config.json's `datasets` holds it (docs/lab.md, "Provenance"):
///
///     {"name": "cifar10", "split": "train", "source": "/data/cifar10" | "bundled sample",
///      "files": [{"name": "data_batch_1.bin", "bytes": 30730000, "sha256": "…"}, …]}
///
/// and the check `moonlab rerun` makes of it against the disk before running.
enum DatasetRecord {
  static let bundledSample = "bundled sample"

  static func json(_ source: DataSource, digests: FileDigests) throws -> JSON {
    let files = try zip(source.files, digests.digests(source.files)).map { url, d -> JSON in
      .object([
        .init("name", .string(url.lastPathComponent)), .init("bytes", .number(Double(d.bytes))),
        .init("sha256", .string(d.sha256)),
      ])
    }
    let origin: String
    switch source.origin {
    case .bundledSample: origin = bundledSample
    case .folder(let f): origin = f.standardizedFileURL.path
    }
    return .object([
      .init("name", .string(source.dataset)), .init("split", .string(source.split)),
      .init("source", .string(origin)), .init("files", .array(files)),
    ])
  }

  /// The recorded dataset's pin key and origin, nil for an entry that isn't one.
  static func pin(_ json: JSON) -> (key: String, origin: DataSource.Origin)? {
    guard let name = json["name"]?.text, let split = json["split"]?.text,
      let source = json["source"]?.text
    else { return nil }
    let origin: DataSource.Origin =
      source == bundledSample ? .bundledSample : .folder(URL(fileURLWithPath: source))
    return (DataSource.key(name, split), origin)
  }

  /// What no longer matches the record: "data changed: FILE (…)", "data missing: FILE".
  static func mismatches(_ json: JSON, digests: FileDigests) -> [String] {
    guard let (_, origin) = pin(json), let name = json["name"]?.text,
      let split = json["split"]?.text
    else { return ["data: config.json has a dataset entry without name, split and source"] }
    let folder: URL
    switch origin {
    case .bundledSample:
      guard let sample = Sample.cifar10Folder() else {
        return ["data missing: the bundled CIFAR-10 sample (not in this Moonlab installation)"]
      }
      folder = sample
    case .folder(let f):
      folder = f
    }
    let recorded = json["files"]?.items ?? []
    var notes: [String] = []
    for file in recorded {
      guard let fileName = file["name"]?.text else { continue }
      let url = folder.appendingPathComponent(fileName)
      guard FileManager.default.fileExists(atPath: url.path) else {
        notes.append(
          "data missing: \(url.path) (\(name) \(split); the rerun reads the default data root instead)"
        )
        continue
      }
      let wanted = (file["sha256"]?.text ?? "", Int(file["bytes"]?.double ?? -1))
      do {
        let now = try digests.digest(url)
        if now.sha256 != wanted.0 || now.bytes != wanted.1 {
          notes.append(
            "data changed: \(url.path) (\(name) \(split): \(now.bytes) bytes, sha256 \(now.sha256.prefix(12))… now; \(wanted.1) bytes, sha256 \(wanted.0.prefix(12))… recorded)"
          )
        }
      } catch {
        notes.append("data changed: \(error)")
      }
    }
    // A file the reader would open now that the original run did not (a class-name file
    // put in place since).
    let names = Set(recorded.compactMap { $0["name"]?.text })
    for url in (try? DataSource.make(name, split: split, origin: origin))?.files ?? []
    where !names.contains(url.lastPathComponent) {
      notes.append("data changed: \(url.path) (\(name) \(split): not read by the recorded run)")
    }
    return notes
  }
}
