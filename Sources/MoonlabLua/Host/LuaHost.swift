import CLua
import Foundation
import LuaShim
import MoonlabData
import MoonlabTensor

/// One Lua state per run, with Moonlab's libraries installed. Used from one thread only.
public final class LuaHost {
  public struct Options {
    /// Scripts from elsewhere: only safe standard libraries, capped memory and time.
    public var sandbox = false
    /// Cap on the Lua heap (0 = none), enforced by the state's allocator.
    public var memoryLimitBytes = 0
    public var timeLimitSeconds = 0.0
    /// The run's seed and thread count (`moonlab run --seed`, `--threads`).
    public var seed: UInt64 = 0
    public var threads = 1
    public init(
      sandbox: Bool = false, memoryLimitBytes: Int = 0, timeLimitSeconds: Double = 0,
      seed: UInt64 = 0, threads: Int = 1
    ) {
      self.sandbox = sandbox
      self.memoryLimitBytes = memoryLimitBytes
      self.timeLimitSeconds = timeLimitSeconds
      self.seed = seed
      self.threads = threads
    }
  }

  public let state: OpaquePointer
  public let options: Options
  /// This run's random streams, grad mode, threads and tensor-memory cap, current while
  /// the host's Lua code runs. The memory limit covers tensors; without one 3/4 of the
  /// machine's memory is the limit, so a script that keeps allocating gets a Lua error instead of
  /// the allocator's failure (a trap) or the kernel's OOM killer.
  public let context: RunContext
  /// Where the libraries' notices for the user go ("using the bundled CIFAR-10 sample"):
  /// stderr, unless the session routes them into a notebook cell.
  public var noticeOutput: (String) -> Void = { line in
    FileHandle.standardError.write(Data((line + "\n").utf8))
  }
  private var noticesGiven: Set<String> = []
  /// The source each dataset split must be read from when the script names no root
  /// (`moonlab rerun` reads what the recorded run read), keyed by `DataSource.key`.
  public var dataPins: [String: DataSource.Origin] = [:]
  /// An object this host keeps alive for the libraries registered in it (the REPL's lab
  /// session, which they reach weakly).
  public var owner: AnyObject?
  /// Told which files each dataset the script opens was read from (the run record's
  /// provenance); an error it throws is the opening call's error.
  public var dataOpened: (DataSource) throws -> Void = { _ in }
  /// The Lua thread Swift calls back into when a Lua-defined module or Function runs from
  /// Swift code (a Sequential's forward, backward on the tape). Set by the nn entry points
  /// to the thread that called them, so a model used inside a coroutine calls back on that
  /// coroutine; otherwise the main state.
  private var callbackThread: OpaquePointer?
  /// Nesting of `call` (Swift → Lua → Swift → Lua …); the time limit starts at the outermost.
  private var callDepth = 0

  /// Libraries every state gets (tensor, nn, optim, data); higher layers (lab, report)
  /// install theirs after creating the host.
  public init(options: Options = Options()) throws {
    LuaHost.installCallbacks
    guard let L = moonlab_newstate(options.memoryLimitBytes) else {
      throw LuaError("can't create a Lua state (out of memory)")
    }
    state = L
    self.options = options
    context = RunContext(
      seed: options.seed, threads: options.threads,
      memoryLimitBytes: options.memoryLimitBytes > 0
        ? options.memoryLimitBytes : TensorMemory.defaultLimitBytes)
    if options.sandbox {
      try openSandboxLibraries()
    } else {
      luaL_openlibs(L)
    }
    for install in Libraries.all { try install(self) }
    if options.sandbox { confineFiles(to: nil) }
    try makeStopsUncatchable()
  }

  deinit { lua_close(state) }

  /// Connects the C trampoline to Swift once per process.
  private static let installCallbacks: Void = {
    moonlab_set_callbacks(
      { L, box in
        guard let L, let box else { return 0 }
        let f = Unmanaged<FunctionBox>.fromOpaque(box).takeUnretainedValue()
        do {
          return try f.fn(Lua(L))
        } catch {
          Lua(L).push(String(describing: error))
          return -1
        }
      },
      { object in
        if let object { Unmanaged<AnyObject>.fromOpaque(object).release() }
      },
      { TensorMemory.liveBytes })
  }()

  // MARK: Running code

  /// Runs a script file like the stock `lua` interpreter: `arg[0]` is the path, the
  /// script's arguments are in `arg[1…]` and in `...`.
  public func runScript(path: String, arguments: [String] = []) throws {
    guard let code = FileManager.default.contents(atPath: path) else {
      throw ScriptNotFound(path: path)
    }
    let lua = Lua(state)
    lua.newTable(array: arguments.count, hash: 2)
    lua.push("moonlab")
    lua.setIndex(-2, -1)
    lua.push(path)
    lua.setIndex(-2, 0)
    for (i, a) in arguments.enumerated() {
      lua.push(a)
      lua.setIndex(-2, i + 1)
    }
    lua_setglobal(state, "arg")
    try load(code, chunkname: "@" + path)
    for a in arguments { lua.push(a) }
    try call(arguments: Int32(arguments.count), results: 0)
  }

  /// Runs a chunk of Lua source; returns its results converted by `tostring`.
  @discardableResult
  public func run(_ code: String, chunkname: String = "=(string)") throws -> [String] {
    let base = lua_gettop(state)
    try load(Data(code.utf8), chunkname: chunkname)
    try call(arguments: 0, results: LUA_MULTRET)
    let lua = Lua(state)
    var out: [String] = []
    let n = lua_gettop(state)
    if n > base { for i in (base + 1)...n { out.append(describe(lua, i)) } }
    lua_settop(state, base)
    return out
  }

  /// Loads a chunk in text mode (binary chunks can crash the interpreter) and leaves the
  /// function on the stack of `thread` (the main state unless a binding runs inside a
  /// coroutine: then its arguments and results live on that coroutine's stack).
  public func load(_ code: Data, chunkname: String, on thread: Lua? = nil) throws {
    let L = thread?.L ?? state
    var bytes = [CChar](repeating: 0, count: code.count + 1)
    code.withUnsafeBytes { buf in
      bytes.withUnsafeMutableBytes { $0.copyMemory(from: buf) }
    }
    let status = moonlab_load_text(L, bytes, code.count, chunkname)
    if status != LUA_OK { throw popError(L) }
  }

  /// Calls the function below `arguments` values with a traceback handler, on `thread`'s
  /// stack (see `load`).
  public func call(arguments: Int32, results: Int32, on thread: Lua? = nil) throws {
    let L = thread?.L ?? state
    if callDepth == 0, options.timeLimitSeconds > 0 {
      moonlab_set_time_limit(state, options.timeLimitSeconds)
    }
    callDepth += 1
    defer { callDepth -= 1 }
    let status = context.activate { moonlab_pcall(L, arguments, results) }
    if status != LUA_OK { throw popError(L) }
  }

  /// Pops the error object on top of `L`'s stack as a LuaError.
  func popError(_ L: OpaquePointer) -> LuaError {
    let msg =
      moonlab_tostring(L, -1).map { String(cString: $0) } ?? "(error object is not a string)"
    moonlab_pop(L, 1)
    return LuaError(msg)
  }

  /// `tostring(value)` without raising (falls back to the type name).
  public func describe(_ lua: Lua, _ i: Int32) -> String {
    if let s = luaL_tolstring_safe(i) { return s }
    return lua.typeName(i)
  }

  private func luaL_tolstring_safe(_ i: Int32) -> String? {
    let idx = lua_absindex(state, i)
    lua_getglobal(state, "tostring")
    lua_pushvalue(state, idx)
    guard moonlab_pcall(state, 1, 1) == LUA_OK, let s = moonlab_tostring(state, -1) else {
      moonlab_pop(state, 1)
      return nil
    }
    defer { moonlab_pop(state, 1) }
    return String(cString: s)
  }

  /// Runs `body` with Lua callbacks going to thread `L` (see `callbackThread`).
  func withCallbackThread<T>(_ L: OpaquePointer, _ body: () throws -> T) rethrows -> T {
    let saved = callbackThread
    callbackThread = L
    defer { callbackThread = saved }
    return try body()
  }

  /// The thread Lua callbacks run on now.
  var callbackState: OpaquePointer { callbackThread ?? state }

  /// Says `line` through `noticeOutput`, once per host.
  public func notice(_ line: String) {
    if noticesGiven.insert(line).inserted { noticeOutput(line) }
  }

  /// Asks a running script to stop (from another thread, e.g. a kernel interrupt).
  public func requestCancel() { moonlab_request_cancel(state) }

  // MARK: Stopping

  /// Stopping can't be caught: once the script must stop (Ctrl-C or SIGTERM, os.exit, the
  /// time limit), pcall, xpcall and coroutine.resume raise the error again, so
  /// `while true do pcall(f) end` ends instead of catching it forever. Outside the sandbox
  /// os.exit stops the script like an error, so the run is recorded (the runner exits with
  /// its code), instead of ending the process on the spot.
  private func makeStopsUncatchable() throws {
    try load(
      Data(
        """
        local mustStop, exit, pcall, xpcall, resume, error = ...
        local function pass(ok, ...)
          if not ok and mustStop() then error((...), 0) end
          return ok, ...
        end
        _G.pcall = function(f, ...) return pass(pcall(f, ...)) end
        _G.xpcall = function(f, handler, ...) return pass(xpcall(f, handler, ...)) end
        coroutine.resume = function(co, ...) return pass(resume(co, ...)) end
        if exit then os.exit = exit end
        """.utf8), chunkname: "=stops")
    moonlab_push_must_stop(state)
    if options.sandbox { lua_pushnil(state) } else { moonlab_push_os_exit(state) }  // no os.exit there
    for name in ["pcall", "xpcall"] { lua_getglobal(state, name) }
    lua_getglobal(state, "coroutine")
    lua_getfield(state, -1, "resume")
    lua_rotate(state, -2, 1)  // resume below the coroutine table, which is then dropped
    lua_settop(state, -2)
    lua_getglobal(state, "error")
    try call(arguments: 6, results: 0)
  }

  /// The code the script passed to os.exit, or nil when it didn't call it.
  public var exitCode: Int32? {
    let code = moonlab_exit_code(state)
    return code >= 0 ? code : nil
  }

  // MARK: Sandbox

  private func openSandboxLibraries() throws {
    let L = state
    let libs: [(String, lua_CFunction)] = [
      ("_G", luaopen_base), ("string", luaopen_string), ("table", luaopen_table),
      ("math", luaopen_math), ("utf8", luaopen_utf8), ("coroutine", luaopen_coroutine),
      ("os", luaopen_os),
    ]
    for (name, open) in libs {
      luaL_requiref(L, name, open, 1)
      moonlab_pop(L, 1)
    }
    // Keep os.clock and os.time only; no dofile/loadfile/string.dump; load() takes text
    // only; io, package and the rest of os answer with a clear refusal; require returns
    // the libraries already loaded.
    try run(
      """
      local function refusing(lib, t)
        return setmetatable(t, { __index = function(_, k)
          error(lib .. "." .. tostring(k) .. " is not available in the sandbox (--sandbox)", 2)
        end })
      end
      local clock, time = os.clock, os.time
      os = refusing("os", { clock = clock, time = time })
      io = refusing("io", {})
      package = refusing("package", { loaded = { _G = _G, string = string, table = table, math = math,
        utf8 = utf8, coroutine = coroutine, os = os } })
      require = function(name)
        local m = package.loaded[name]
        if m == nil then error("require: only Moonlab's libraries are available in the sandbox, not '" .. tostring(name) .. "'", 2) end
        return m
      end
      dofile, loadfile = nil, nil
      string.dump = function() error("string.dump is not available in the sandbox (--sandbox)", 2) end
      local rawload = load
      load = function(chunk, name, mode, env)
        if (mode ~= nil and mode ~= "t") or (type(chunk) == "string" and chunk:byte(1) == 27) then
          error("load: binary chunks are not allowed in the sandbox (--sandbox)", 2)
        end
        return rawload(chunk, name, "t", env)
      end
      """, chunkname: "=sandbox")
  }
}

/// The script file doesn't exist or can't be read (the CLI exits 2).
public struct ScriptNotFound: Error, CustomStringConvertible {
  public let path: String
  public init(path: String) { self.path = path }
  public var description: String { "cannot open \(path): no such file or not readable" }
}
