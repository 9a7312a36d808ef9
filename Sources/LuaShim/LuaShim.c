#include "LuaShim.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static moonlab_dispatch_fn swift_dispatch;
static moonlab_release_fn swift_release;
static moonlab_live_bytes_fn swift_live_bytes;

void moonlab_set_callbacks(moonlab_dispatch_fn dispatch, moonlab_release_fn release,
                           moonlab_live_bytes_fn live_bytes) {
  swift_dispatch = dispatch;
  swift_release = release;
  swift_live_bytes = live_bytes;
}

// Per-state allocator bookkeeping. While a Swift-bound function runs (in_swift > 0) the
// cap is not enforced: a refused allocation there would raise through Swift frames.
typedef struct {
  int exit_requested;  // os.exit was called: the script stops, recorded, with exit_code
  int exit_code;
  size_t in_use;
  size_t max_bytes;
  int in_swift;
  volatile int cancel;
  double deadline;  // CLOCK_MONOTONIC seconds, 0 = none
  double limit;     // the time limit in seconds, for the message
  size_t tensor_baseline;  // the least live tensor bytes since the last full collection
} moonlab_state_info;

static void *moonlab_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  moonlab_state_info *info = ud;
  size_t old = ptr ? osize : 0;
  if (nsize == 0) {
    free(ptr);
    info->in_use -= old;
    return NULL;
  }
  if (info->max_bytes && info->in_swift == 0 && nsize > old &&
      info->in_use - old + nsize > info->max_bytes)
    return NULL;
  void *p = realloc(ptr, nsize);
  if (p) info->in_use = info->in_use - old + nsize;
  return p;
}

static moonlab_state_info *info_of(lua_State *L) {
  void *ud = NULL;
  lua_Alloc f = lua_getallocf(L, &ud);
  return f == moonlab_alloc ? (moonlab_state_info *)ud : NULL;
}

static int panic(lua_State *L) {
  const char *msg = lua_tostring(L, -1);
  fprintf(stderr, "moonlab: unprotected Lua error: %s\n", msg ? msg : "?");
  abort();
}

static void install_hook(lua_State *L);

lua_State *moonlab_newstate(size_t max_bytes) {
  moonlab_state_info *info = calloc(1, sizeof *info);
  if (!info) return NULL;
  info->max_bytes = max_bytes;
  lua_State *L = lua_newstate(moonlab_alloc, info);
  if (!L) {
    free(info);
    return NULL;
  }
  lua_atpanic(L, panic);
  install_hook(L);  // Ctrl-C and os.exit are checked in every run, limit or not
  return L;
}

size_t moonlab_memory_in_use(lua_State *L) {
  moonlab_state_info *info = info_of(L);
  return info ? info->in_use : 0;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int expired(moonlab_state_info *info) {
  return info && info->deadline > 0 && now_seconds() > info->deadline;
}

static int time_limit_error(lua_State *L, moonlab_state_info *info) {
  return luaL_error(L, "script stopped: time limit of %f s exceeded (--time-limit)", info->limit);
}

// SIGINT and SIGTERM: the first asks the running script to stop (the hook and the
// trampoline raise "interrupted by …", and the run is recorded as interrupted); a second
// one ends the process at once.
static volatile sig_atomic_t pending_signal;

static void on_signal(int sig) {
  if (pending_signal) _exit(128 + sig);
  pending_signal = sig;
}

void moonlab_install_signal_handlers(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

int moonlab_pending_signal(void) { return pending_signal; }

// Whether the script must stop: a signal, os.exit, or the time limit.
static int must_stop(moonlab_state_info *info) {
  return pending_signal || (info && info->exit_requested) || expired(info);
}

// Raises the reason the script must stop (call only when must_stop).
static int stop_error(lua_State *L, moonlab_state_info *info) {
  if (pending_signal)
    return luaL_error(L, "interrupted by %s", pending_signal == SIGINT ? "SIGINT (Ctrl-C)" : "SIGTERM");
  if (info && info->exit_requested) return luaL_error(L, "os.exit(%d) called", info->exit_code);
  return time_limit_error(L, info);
}

static void limit_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  moonlab_state_info *info = info_of(L);
  if (!info) return;
  if (info->cancel) {
    info->cancel = 0;
    luaL_error(L, "interrupted");
  }
  if (must_stop(info)) stop_error(L, info);
}

// Lua's `pcall` catches these errors like any other; the host's pcall, xpcall and
// coroutine.resume ask this after a failure and raise the error again.
static int lua_must_stop(lua_State *L) {
  lua_pushboolean(L, must_stop(info_of(L)));
  return 1;
}

void moonlab_push_must_stop(lua_State *L) { lua_pushcfunction(L, lua_must_stop); }

// os.exit([code]) in place of Lua's, which would end the process with no record: the
// script stops like on an error and the runner records it and exits with `code`.
static int lua_os_exit(lua_State *L) {
  moonlab_state_info *info = info_of(L);
  int code = lua_isboolean(L, 1) ? !lua_toboolean(L, 1) : (int)luaL_optinteger(L, 1, 0);
  if (info) {
    info->exit_requested = 1;
    info->exit_code = code;
  }
  return luaL_error(L, "os.exit(%d) called", code);
}

void moonlab_push_os_exit(lua_State *L) { lua_pushcfunction(L, lua_os_exit); }

int moonlab_exit_code(lua_State *L) {
  moonlab_state_info *info = info_of(L);
  return info && info->exit_requested ? info->exit_code : -1;
}

static void install_hook(lua_State *L) { lua_sethook(L, limit_hook, LUA_MASKCOUNT, 10000); }

void moonlab_set_time_limit(lua_State *L, double seconds) {
  moonlab_state_info *info = info_of(L);
  if (!info) return;
  info->deadline = seconds > 0 ? now_seconds() + seconds : 0;
  info->limit = seconds;
  install_hook(L);
}

void moonlab_request_cancel(lua_State *L) {
  moonlab_state_info *info = info_of(L);
  if (info) info->cancel = 1;
}

void moonlab_clear_cancel(lua_State *L) {
  moonlab_state_info *info = info_of(L);
  if (info) info->cancel = 0;
  install_hook(L);
}

// Userdata holding one retained Swift object.
static int object_gc(lua_State *L) {
  void **slot = lua_touserdata(L, 1);
  if (slot && *slot) {
    swift_release(*slot);
    *slot = NULL;
  }
  return 0;
}

static int trampoline(lua_State *L) {
  void **slot = lua_touserdata(L, lua_upvalueindex(1));
  moonlab_state_info *info = info_of(L);
  // A loop of heavy tensor calls runs few Lua instructions: the count hook alone would
  // let it overshoot a limit or a Ctrl-C by many seconds. No Swift call starts after them.
  if (must_stop(info)) return stop_error(L, info);
  if (info) info->in_swift++;
  int n = swift_dispatch(L, *slot);
  if (info) info->in_swift--;
  if (n >= 0) return n;
  // The message is on top. Prefix the calling Lua line, as luaL_error does.
  if (lua_type(L, -1) == LUA_TSTRING) {
    luaL_where(L, 1);
    lua_insert(L, -2);
    lua_concat(L, 2);
  }
  return lua_error(L);
}

#define FUNCTION_BOX_META "moonlab.FunctionBox"

void moonlab_push_swift_function(lua_State *L, void *box) {
  void **slot = lua_newuserdatauv(L, sizeof(void *), 0);
  *slot = box;
  if (luaL_newmetatable(L, FUNCTION_BOX_META)) {
    lua_pushcfunction(L, object_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  lua_pushcclosure(L, trampoline, 1);
}

int moonlab_new_metatable(lua_State *L, const char *tname) {
  int created = luaL_newmetatable(L, tname);  // sets __name
  if (created) {
    lua_pushcfunction(L, object_gc);
    lua_setfield(L, -2, "__gc");
  }
  return created;
}

void moonlab_push_object(lua_State *L, void *retained, const char *tname) {
  void **slot = lua_newuserdatauv(L, sizeof(void *), 1);
  *slot = retained;
  luaL_setmetatable(L, tname);
}

void *moonlab_to_object(lua_State *L, int index, const char *tname) {
  void **slot = luaL_testudata(L, index, tname);
  return slot ? *slot : NULL;
}

void *moonlab_to_any_object(lua_State *L, int index, const char **tname) {
  if (lua_type(L, index) != LUA_TUSERDATA || !lua_getmetatable(L, index)) return NULL;
  int found = lua_getfield(L, -1, "__gc") == LUA_TFUNCTION && lua_tocfunction(L, -1) == object_gc;
  lua_pop(L, 1);
  if (found && lua_getfield(L, -1, "__name") == LUA_TSTRING) {
    if (tname) *tname = lua_tostring(L, -1);  // metatables live in the registry
  } else {
    found = 0;
  }
  lua_pop(L, 2);
  void **slot = lua_touserdata(L, index);
  return found && slot ? *slot : NULL;
}

static int traceback_handler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  // An error coming back up through a Swift-bound function was already given the
  // traceback of this same stack by the inner pcall: one is enough.
  if (strstr(msg, "\nstack traceback:") != NULL) {
    lua_pushstring(L, msg);
    return 1;
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

int moonlab_pcall(lua_State *L, int nargs, int nresults) {
  int base = lua_gettop(L) - nargs;
  lua_pushcfunction(L, traceback_handler);
  lua_insert(L, base);
  // Lua called from a Swift-bound function (a sweep's run, a Lua-defined layer) is
  // protected by this pcall, so the memory cap applies again inside it.
  moonlab_state_info *info = info_of(L);
  int in_swift = info ? info->in_swift : 0;
  if (info) info->in_swift = 0;
  int status = lua_pcall(L, nargs, nresults, base);
  if (info) info->in_swift = in_swift;
  lua_remove(L, base);
  return status;
}

int moonlab_load_text(lua_State *L, const char *code, size_t size, const char *chunkname) {
  return luaL_loadbufferx(L, code, size, chunkname, "t");
}

// Tensors live in Swift memory: Lua's collector sees only their small userdata and, paced
// by the Lua heap alone, would let dead tensors pile up between cycles — and behind a
// one-element loss, the graph of its whole step. So the collector is paced by the
// process's live tensor bytes instead (docs/architecture.md, "Memory"): once they grew by a
// quarter, and at least MIN_GROWTH, over the least they were since the last full
// collection, a full collection runs (lua_gc does nothing when called from a finalizer).
// Counting from the least rather than from what the last collection left keeps the bound
// after a script drops a large tensor; a full collection of a script's heap takes ~10 µs,
// so one per training step costs nothing measurable.
#define MIN_GROWTH ((size_t)16 << 20)

void moonlab_note_tensor_pushed(lua_State *L) {
  moonlab_state_info *info = info_of(L);
  if (!info || !swift_live_bytes) return;
  size_t live = swift_live_bytes();
  if (live < info->tensor_baseline) info->tensor_baseline = live;
  size_t growth = info->tensor_baseline / 4;
  if (growth < MIN_GROWTH) growth = MIN_GROWTH;
  if (live < info->tensor_baseline + growth) return;
  lua_gc(L, LUA_GCCOLLECT);
  info->tensor_baseline = swift_live_bytes();
}
