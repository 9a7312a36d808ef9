import Foundation
import MoonlabNN
import MoonlabTensor

/// A train state on disk: `train-state/epoch-NNN.safetensors`, then
/// `train-state/epoch-NNN.json` with the tensors' sha256. Each is written atomically and
/// the JSON last, so a run killed while writing leaves either no JSON (the checkpoint
/// doesn't exist for `moonlab resume`) or a whole pair (docs/lab.md, "Resuming a run").
extension TrainState {
  static let folder = "train-state"

  static func baseName(_ epoch: Int) -> String { String(format: "epoch-%03d", epoch) }

  func write(in runDir: URL) throws {
    let dir = runDir.appendingPathComponent(TrainState.folder)
    try Folder.create(dir)
    let base = TrainState.baseName(epoch)
    let tensorsURL = dir.appendingPathComponent(base + ".safetensors")
    let bytes = try Safetensors.encode(
      tensors, metadata: ["format": "moonlab-train-state"], path: tensorsURL.path)
    try AtomicFile.write(bytes, to: tensorsURL)
    let link: [JSON.Field] = [
      .init("tensors", .string(tensorsURL.lastPathComponent)),
      .init("tensors_sha256", .string(SHA256.hex(bytes))),
    ]
    try AtomicFile.write(
      JSON.object((json.fields ?? []) + link).serialized(pretty: true) + "\n",
      to: dir.appendingPathComponent(base + ".json"))
    // Resume needs the newest; the one before stays in case the newest is damaged.
    for old in TrainState.epochs(in: dir).filter({ $0 < epoch }).dropFirst() {
      TrainState.remove(old, in: dir)
    }
  }

  /// The epochs of the checkpoints in `dir` (train-state/), newest first.
  static func epochs(in dir: URL) -> [Int] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
    return names.compactMap { name -> Int? in
      guard name.hasPrefix("epoch-"), name.hasSuffix(".json") else { return nil }
      return Int(name.dropFirst(6).dropLast(5))
    }.sorted(by: >)
  }

  /// Removes a checkpoint, its JSON first: a pair without tensors is never left behind.
  static func remove(_ epoch: Int, in dir: URL) {
    for ext in [".json", ".safetensors"] {
      try? FileManager.default.removeItem(at: dir.appendingPathComponent(baseName(epoch) + ext))
    }
  }

  /// Reads the checkpoint whose JSON is `url`, checking its tensors against the sha256.
  static func read(_ url: URL) throws -> TrainState {
    let file = "\(TrainState.folder)/\(url.lastPathComponent)"
    guard let json = try JSON.read(url) else { throw LabError("\(file) is missing") }
    guard let name = json["tensors"]?.text, !name.contains("/"),
      let sha = json["tensors_sha256"]?.text
    else { throw LabError("\(file) names no tensors file") }
    let tensorsURL = url.deletingLastPathComponent().appendingPathComponent(name)
    guard let bytes = FileManager.default.contents(atPath: tensorsURL.path) else {
      throw LabError("\(file): its tensors \(name) are missing")
    }
    guard SHA256.hex(bytes) == sha else {
      throw LabError("\(file): its tensors \(name) don't match their recorded sha256")
    }
    let tensors = try Safetensors.parse(bytes, path: tensorsURL.path).tensors
    return try TrainState(json: json, tensors: tensors, file: file)
  }

  /// The newest checkpoint of `runDir` that reads back whole, or nil. Damaged ones are
  /// named through `note` and skipped; they, and any newer than the one chosen, are
  /// removed, since the resumed run redoes those epochs and writes them again.
  static func latest(in runDir: URL, note: (String) -> Void) -> TrainState? {
    let dir = runDir.appendingPathComponent(folder)
    var chosen: TrainState?
    for epoch in epochs(in: dir) {
      let url = dir.appendingPathComponent(baseName(epoch) + ".json")
      if chosen == nil {
        do {
          let state = try read(url)
          guard state.epoch == epoch else {
            throw LabError("\(folder)/\(url.lastPathComponent) holds epoch \(state.epoch)")
          }
          chosen = state
          continue
        } catch {
          note("skipping a damaged checkpoint: \(error)")
        }
      }
      remove(epoch, in: dir)
    }
    return chosen
  }
}
