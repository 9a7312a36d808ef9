import CLua
import Foundation
import LuaShim

/// Files under `--sandbox`: a script from elsewhere may save and load checkpoints only
/// inside its run directory. Outside the sandbox, paths are used as given.
///
/// The policy lives in the Lua registry (one per state), so a binding that only has the
/// `Lua` of its call can apply it: absent outside the sandbox, the run directory's path
/// inside it, "" while there is none.
extension Lua {
  static let sandboxFilesKey = "moonlab.sandbox_files"

  /// The sandbox's file root: nil outside the sandbox, "" where there is no run directory.
  public var sandboxFileRoot: String? {
    defer { pop() }
    guard rawField(moonlab_registry_index(), Lua.sandboxFilesKey) == LUA_TSTRING,
      let s = lua_tolstring(L, -1, nil)
    else { return nil }
    return String(cString: s)
  }

  /// The run record's own files: under --sandbox a script may neither write nor replace
  /// them, so a failed run can't leave a forged DONE or rewrite its metrics.
  static let recordFiles: Set<Substring> = [
    "DONE", "config.json", "script.lua", "metrics.jsonl", "report.html", "report.md",
    "report.json", "images", "result.json", "train-state",
  ]

  /// Argument `i` of `fn` as a file path. Under --sandbox it must be relative, must not
  /// climb out ('..'), name none of the run record's files, and pass through no symbolic
  /// link (one planted there could point anywhere): it is taken inside the run directory.
  public func filePath(_ i: Int32, _ fn: String) throws -> String {
    let path = try string(i, fn)
    guard let root = sandboxFileRoot else { return path }
    guard !root.isEmpty else {
      throw LuaError("\(fn): the sandbox (--sandbox) has no run directory for files here")
    }
    let parts = path.split(separator: "/", omittingEmptySubsequences: false)
    guard !path.isEmpty, !path.hasPrefix("/"), !parts.contains("..") else {
      throw badArgument(
        i, fn,
        "the sandbox (--sandbox) allows only paths inside the run directory, like 'model.safetensors', got '\(path)'"
      )
    }
    if let first = parts.first, Lua.recordFiles.contains(first) {
      throw badArgument(
        i, fn, "the sandbox (--sandbox) keeps the run record's own files ('\(first)') for Moonlab")
    }
    var resolved = URL(fileURLWithPath: root)
    for part in parts where !part.isEmpty && part != "." {
      resolved.appendPathComponent(String(part))
      var info = stat()
      if lstat(resolved.path, &info) == 0, info.st_mode & S_IFMT == S_IFLNK {
        throw badArgument(
          i, fn,
          "the sandbox (--sandbox) follows no symbolic links, and '\(part)' in '\(path)' is one")
      }
    }
    return resolved.path
  }
}

extension LuaHost {
  /// Under --sandbox: script file paths resolve inside `dir` (nil: no file access).
  public func confineFiles(to dir: URL?) {
    let lua = Lua(state)
    lua.push(dir?.path ?? "")
    lua.setField(moonlab_registry_index(), Lua.sandboxFilesKey)
  }
}
