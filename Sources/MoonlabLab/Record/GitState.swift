import Foundation

/// The git work tree a script lives in, for config.json's `script.git` (docs/lab.md,
/// "Provenance"): the commit, whether the tree differs from it, and that difference as
/// text (saved as git.diff in the run directory). nil outside a work tree, without git,
/// or before the first commit.
struct GitState: Equatable {
  let repository: String
  let commit: String
  /// The script itself is tracked (else the commit does not hold it).
  let scriptTracked: Bool
  /// `git diff HEAD`: changes of tracked files not committed.
  let diff: String

  var dirty: Bool { !diff.isEmpty || !scriptTracked }

  static let diffFile = "git.diff"

  var json: JSON {
    var fields: [JSON.Field] = [
      .init("repository", .string(repository)), .init("commit", .string(commit)),
      .init("dirty", .bool(dirty)), .init("script_tracked", .bool(scriptTracked)),
    ]
    if !diff.isEmpty { fields.append(.init("diff", .string(GitState.diffFile))) }
    return .object(fields)
  }

  static func of(script: URL) -> GitState? {
    let dir = script.deletingLastPathComponent().path
    // Most scripts live outside a work tree: finding no .git costs a few stat calls, where
    // asking git costs three processes (and the threads Foundation starts to watch them)
    // on every run's start-up.
    guard insideWorkTree(dir) else { return nil }
    guard let head = git(["rev-parse", "--show-toplevel", "HEAD"], in: dir) else { return nil }
    let lines = head.split(separator: "\n").map(String.init)
    guard lines.count == 2, let diff = git(["diff", "HEAD", "--"], in: dir) else { return nil }
    let tracked = git(["ls-files", "--error-unmatch", "--", script.lastPathComponent], in: dir)
    return GitState(
      repository: lines[0], commit: lines[1], scriptTracked: tracked != nil, diff: diff)
  }

  /// Whether `dir` or a folder above it holds a `.git` (a folder, or a file for worktrees).
  private static func insideWorkTree(_ dir: String) -> Bool {
    var url = URL(fileURLWithPath: dir).standardizedFileURL
    while true {
      if FileManager.default.fileExists(atPath: url.appendingPathComponent(".git").path) {
        return true
      }
      let parent = url.deletingLastPathComponent()
      if parent.path == url.path { return false }
      url = parent
    }
  }

  /// git's standard output, or nil when git is missing or fails.
  private static func git(_ arguments: [String], in dir: String) -> String? {
    // No index refresh (it would take git's lock in someone else's repository).
    let r = ExternalCommand.run(
      "git", ["-C", dir] + arguments, environment: ["GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"])
    return r.status == 0 ? r.output : nil
  }
}
