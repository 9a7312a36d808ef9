import Foundation

/// metrics.jsonl: one JSON object per `lab.log` call or epoch. Each line goes out in one
/// write(2) on an O_APPEND descriptor followed by fsync, so a run killed at any moment
/// keeps every finished line; readers drop a last line without its newline.
public final class MetricsLog {
  public let url: URL
  private let fd: Int32
  /// Every line logged so far (the report's curves are drawn from these).
  public private(set) var lines: [JSON] = []

  /// A resumed run's lines up to its checkpoint: its script logs them again on the way
  /// there, and each is compared with the recorded one instead of written twice.
  private var recorded: [JSON] = []

  public init(url: URL) throws {
    self.url = url
    lines = MetricsLog.read(url)
    fd = try MetricsLog.open(url, exclusive: false)
  }

  /// Opens the log of a run about to be resumed, with the exclusive lock: an error if
  /// the run's own process (which holds a shared one) or another resume still has it.
  init(resuming url: URL) throws {
    self.url = url
    fd = try MetricsLog.open(url, exclusive: true)
  }

  /// Cuts the log back to its first `kept` lines, where the checkpoint was taken (later
  /// lines are epochs the run will do again); the kept ones are expected again, in
  /// order, from the script (docs/lab.md, "Resuming a run").
  func cutBack(keeping kept: Int) throws {
    guard let data = FileManager.default.contents(atPath: url.path) else {
      throw LabError("\(url.path) is missing")
    }
    var end = data.startIndex
    var count = 0
    while count < kept, let newline = data[end...].firstIndex(of: UInt8(ascii: "\n")) {
      end = newline + 1
      count += 1
    }
    guard count == kept else {
      throw LabError(
        "\(url.path) has \(count) complete line(s), but the checkpoint was taken after \(kept)")
    }
    recorded = try MetricsLog.parseStrictly(data[..<end], url)
    lines = []
    guard ftruncate(fd, off_t(end - data.startIndex)) == 0, fsync(fd) == 0 else {
      throw LabError(
        "can't cut \(url.path) back to its checkpoint: \(String(cString: strerror(errno)))")
    }
  }

  /// Opens for appending with a lock held for the run's lifetime (the kernel drops it
  /// when the process ends, SIGKILL included): shared for a run, exclusive for a resume,
  /// so `moonlab resume` can't take over a run that is still going. File systems without
  /// locks are used without them.
  private static func open(_ url: URL, exclusive: Bool) throws -> Int32 {
    let fd = Foundation.open(url.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
      throw LabError("can't open \(url.path): \(String(cString: strerror(errno)))")
    }
    if flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0, errno == EWOULDBLOCK {
      close(fd)
      throw LabError(
        "\(url.deletingLastPathComponent().path) is in use by another moonlab process (is the run still going?); resume it once that process has ended"
      )
    }
    return fd
  }

  deinit { close(fd) }

  /// The run is over (finished, failed or interrupted): `moonlab resume` may take it,
  /// even while this process goes on (a test, a notebook, in-process sweep trials).
  func unlock() { flock(fd, LOCK_UN) }

  /// A resumed lab.fit took its checkpoint: the recorded lines up to `count` (its epochs
  /// so far, and what its callbacks logged) are its own and stay as they are.
  func keepRecorded(through count: Int) throws {
    guard count >= lines.count, count <= recorded.count else {
      throw LabError(
        "resume: the checkpoint was taken after metrics line \(count), but the script is at line \(lines.count) of \(recorded.count) recorded"
      )
    }
    lines = Array(recorded[..<count])
  }

  public func append(_ line: JSON) throws {
    if lines.count < recorded.count {
      // Compared as written (NaN as null), timing keys aside, like `moonlab rerun`.
      let expected = recorded[lines.count]
      let again = try JSON.parse(MetricsLog.noteNonFinite(line).serialized())
      if let key = Rerun.differingKey(expected, again) {
        throw LabError(
          "resume: metrics line \(lines.count + 1) differs from the recorded run (metric '\(key)' is \(expected[key]?.serialized() ?? "absent") there, \(again[key]?.serialized() ?? "absent") now), so this is not the same run and can't continue it exactly (changed data or build?)"
        )
      }
      lines.append(expected)
      return
    }
    let bytes = Array((MetricsLog.noteNonFinite(line).serialized() + "\n").utf8)
    let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
    guard written == bytes.count, fsync(fd) == 0 else {
      throw LabError("can't append to \(url.path): \(String(cString: strerror(errno)))")
    }
    lines.append(line)
  }

  /// Strict JSON has no NaN or infinity: such values are written as null, and a
  /// `non_finite` field says what they were ({"train_loss": "NaN"}).
  static func noteNonFinite(_ line: JSON) -> JSON {
    guard let fields = line.fields else { return line }
    let odd = fields.compactMap { f -> JSON.Field? in
      guard let d = f.value.double, !d.isFinite else { return nil }
      return .init(f.key, .string(JSON.format(d)))
    }
    return odd.isEmpty ? line : .object(fields + [.init("non_finite", .object(odd))])
  }

  /// Every line of a metrics file, checked: each must be a complete JSON object. What
  /// `moonlab rerun` compares, so a damaged or edited record is named, not half-read.
  public static func readStrictly(_ url: URL) throws -> [JSON] {
    guard let data = FileManager.default.contents(atPath: url.path) else {
      throw LabError("\(url.path) is missing")
    }
    return try parseStrictly(data, url)
  }

  /// The lines of a metrics file's bytes, checked; `url` names it in errors.
  static func parseStrictly(_ data: Data, _ url: URL) throws -> [JSON] {
    let text = String(decoding: data, as: UTF8.self)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    if lines.last?.isEmpty == true { lines.removeLast() }
    return try lines.enumerated().map { i, line in
      if i == lines.count - 1, !text.hasSuffix("\n") {
        throw LabError(
          "\(url.path): line \(i + 1) is unfinished (no newline: the run stopped while writing it)")
      }
      guard let json = try? JSON.parse(String(line)), json.fields != nil else {
        throw LabError("\(url.path): line \(i + 1) is not a JSON object: \(line.prefix(60))")
      }
      return json
    }
  }

  /// The complete lines of a metrics file (none when it doesn't exist).
  public static func read(_ url: URL) -> [JSON] {
    guard let data = FileManager.default.contents(atPath: url.path) else { return [] }
    let text = String(decoding: data, as: UTF8.self)
    var complete = text.split(separator: "\n", omittingEmptySubsequences: false)
    complete.removeLast()  // empty after the final newline, or an unfinished line
    return complete.compactMap { try? JSON.parse(String($0)) }
  }
}
