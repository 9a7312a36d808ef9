import Foundation
import MoonlabTensor

/// SHA-256 of data files, remembered across runs by path, size, modification time and inode
/// (docs/lab.md, "Provenance"), so the full CIFAR-10 (180 MB) is hashed once and a later
/// run only stats its files. The cache is `$XDG_CACHE_HOME/moonlab/sha256.json` (else
/// `~/.cache/moonlab/sha256.json`), replaced atomically; a damaged one is ignored and
/// rebuilt, and one that can't be written only costs the next run a rehash.
final class FileDigests {
  struct Digest: Equatable {
    let bytes: Int
    let sha256: String
  }

  /// What must stay the same for a remembered hash to hold.
  private struct Stamp: Equatable {
    let bytes: Int
    let mtime: String
    let inode: String
  }

  /// Entries kept at most; the oldest go first.
  static let capacity = 4096
  /// A file modified this recently may still change within the same timestamp tick, so
  /// its hash is not remembered (git's "racily clean" entries).
  static let settleSeconds = 2.0

  let cacheFile: URL?
  private var entries: [(path: String, stamp: Stamp, sha256: String)] = []
  private var changed = false

  init(cacheFile: URL? = FileDigests.defaultCacheFile()) {
    self.cacheFile = cacheFile
    if let cacheFile { entries = FileDigests.load(cacheFile) }
  }

  static func defaultCacheFile(
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) -> URL? {
    if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
      return URL(fileURLWithPath: xdg).appendingPathComponent("moonlab/sha256.json")
    }
    guard let home = environment["HOME"], !home.isEmpty else { return nil }
    return URL(fileURLWithPath: home).appendingPathComponent(".cache/moonlab/sha256.json")
  }

  /// The file's size and SHA-256: remembered when its stamp is unchanged, else read.
  func digest(_ file: URL) throws -> Digest { try digests([file])[0] }

  /// Sizes and SHA-256 of `files`, in order. Those not remembered are read one file per
  /// core at once: the full CIFAR-10's six batches take a sixth of the time on six cores.
  func digests(_ files: [URL]) throws -> [Digest] {
    var found = [Digest?](repeating: nil, count: files.count)
    var misses: [(index: Int, path: String, stamp: Stamp, mtime: Int)] = []
    for (i, file) in files.enumerated() {
      let path = file.standardizedFileURL.path
      var st = stat()
      guard stat(path, &st) == 0 else {
        throw LabError("can't read \(path): \(String(cString: strerror(errno)))")
      }
      let stamp = Stamp(
        bytes: Int(st.st_size), mtime: "\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)",
        inode: String(st.st_ino))
      if let hit = entries.last(where: { $0.path == path }), hit.stamp == stamp {
        found[i] = Digest(bytes: stamp.bytes, sha256: hit.sha256)
      } else {
        misses.append((i, path, stamp, st.st_mtim.tv_sec))
      }
    }
    var hashed = [Result<(hex: String, bytes: Int), Error>?](repeating: nil, count: misses.count)
    hashed.withUnsafeMutableBufferPointer { out in
      // Each iteration writes only its own slot.
      DispatchQueue.concurrentPerform(iterations: misses.count) { j in
        out[j] = Result { try SHA256.file(URL(fileURLWithPath: misses[j].path)) }
      }
    }
    let now = Date().timeIntervalSince1970
    for (miss, result) in zip(misses, hashed) {
      guard let (sha256, bytes) = try result?.get() else { continue }
      entries.removeAll { $0.path == miss.path }
      if bytes == miss.stamp.bytes, now - Double(miss.mtime) > FileDigests.settleSeconds {
        entries.append((miss.path, miss.stamp, sha256))
      }
      found[miss.index] = Digest(bytes: bytes, sha256: sha256)
      changed = true
    }
    if entries.count > FileDigests.capacity {
      entries.removeFirst(entries.count - FileDigests.capacity)
    }
    return found.compactMap { $0 }
  }

  /// Writes the cache when it learned something; a failure is not the run's problem.
  func save() {
    guard changed, let cacheFile else { return }
    let files = entries.map { e in
      JSON.Field(
        e.path,
        .object([
          .init("bytes", .number(Double(e.stamp.bytes))), .init("mtime", .string(e.stamp.mtime)),
          .init("inode", .string(e.stamp.inode)), .init("sha256", .string(e.sha256)),
        ]))
    }
    let json = JSON.object([.init("version", .number(1)), .init("files", .object(files))])
    if (try? AtomicFile.write(json.serialized() + "\n", to: cacheFile)) != nil { changed = false }
  }

  /// The entries of a cache file; anything unreadable counts as no cache.
  private static func load(_ url: URL) -> [(path: String, stamp: Stamp, sha256: String)] {
    guard let json = try? JSON.read(url), json["version"] == .number(1),
      let files = json["files"]?.fields
    else { return [] }
    return files.compactMap { f in
      guard let bytes = f.value["bytes"]?.double, let mtime = f.value["mtime"]?.text,
        let inode = f.value["inode"]?.text, let sha = f.value["sha256"]?.text,
        sha.count == 64, let size = Int(exactly: bytes)
      else { return nil }
      return (f.key, Stamp(bytes: size, mtime: mtime, inode: inode), sha)
    }
  }
}
