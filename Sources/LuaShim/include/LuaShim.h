// The only C in Moonlab's Lua bridge. Lua raises errors with longjmp, which must never
// cross a Swift frame (docs/architecture.md, "The Lua bridge"). Swift-bound functions are therefore reached through
// moonlab_trampoline: Swift returns a result count, or -1 with the error message pushed,
// and only then, with no Swift frame left on the stack, the trampoline raises.
#ifndef MOONLAB_LUASHIM_H
#define MOONLAB_LUASHIM_H

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stddef.h>

// Swift's side of the bridge, installed once by moonlab_set_callbacks.
// dispatch: run the Swift closure `box`; return results pushed, or -1 after pushing a
// message. release: drop the retained Swift object a userdata held. live_bytes: the
// bytes of all live tensor storage in the process (paces the collector).
typedef int (*moonlab_dispatch_fn)(lua_State *L, void *box);
typedef void (*moonlab_release_fn)(void *object);
typedef size_t (*moonlab_live_bytes_fn)(void);
void moonlab_set_callbacks(moonlab_dispatch_fn dispatch, moonlab_release_fn release,
                           moonlab_live_bytes_fn live_bytes);

// A new state with Moonlab's allocator. max_bytes == 0 means no cap. Standard libraries
// are not opened (the host decides which).
lua_State *moonlab_newstate(size_t max_bytes);
size_t moonlab_memory_in_use(lua_State *L);

// Wall-time limit (seconds, 0 = none) and the cancel flag, both checked by a count hook.
void moonlab_set_time_limit(lua_State *L, double seconds);
void moonlab_request_cancel(lua_State *L);
void moonlab_clear_cancel(lua_State *L);
// SIGINT/SIGTERM handlers: the first signal stops the script at its next hook or Swift
// call, a second ends the process (exit 128 + signal). The pending signal, 0 if none.
void moonlab_install_signal_handlers(void);
int moonlab_pending_signal(void);
// Pushes a Lua function telling whether the script must stop (signal, os.exit, time
// limit), for the pcall wrappers; and the os.exit replacement. moonlab_exit_code is the
// code os.exit was called with, or -1.
void moonlab_push_must_stop(lua_State *L);
void moonlab_push_os_exit(lua_State *L);
int moonlab_exit_code(lua_State *L);

// Push a Lua function that calls the Swift closure `box` (a retained object released by
// the function's __gc when Lua collects it).
void moonlab_push_swift_function(lua_State *L, void *box);

// Full userdata holding a retained Swift object, with metatable `tname` (created before
// with moonlab_new_metatable). Returns the stored pointer or NULL when the value at
// index is not such a userdata.
void moonlab_push_object(lua_State *L, void *retained, const char *tname);
void *moonlab_to_object(lua_State *L, int index, const char *tname);
// Like moonlab_to_object, for any Moonlab userdata; the metatable's __name goes to *tname.
void *moonlab_to_any_object(lua_State *L, int index, const char **tname);
// Creates (or fetches) metatable `tname` in the registry with __name and __gc set and
// leaves it on the stack; returns 1 when it was created now.
int moonlab_new_metatable(lua_State *L, const char *tname);

// Called after a tensor userdata was pushed: runs a full collection when the live tensor
// bytes grew enough since the last one, so the collector keeps up with the memory that
// dead tensors (and the graphs behind them) hold.
void moonlab_note_tensor_pushed(lua_State *L);

// Calls the function below nargs arguments with a traceback message handler.
// Returns LUA_OK or an error code with the message (traceback included) on top.
int moonlab_pcall(lua_State *L, int nargs, int nresults);

// Loads a chunk in text mode only (binary chunks can crash the interpreter).
int moonlab_load_text(lua_State *L, const char *code, size_t size, const char *chunkname);

// Non-raising versions of common macros, so Swift can use them.
static inline void moonlab_pop(lua_State *L, int n) { lua_settop(L, -(n)-1); }
static inline int moonlab_registry_index(void) { return LUA_REGISTRYINDEX; }
static inline int moonlab_upvalue_index(int i) { return lua_upvalueindex(i); }
static inline void moonlab_newtable(lua_State *L) { lua_createtable(L, 0, 0); }
static inline const char *moonlab_tostring(lua_State *L, int i) { return lua_tolstring(L, i, NULL); }
static inline int moonlab_isnoneornil(lua_State *L, int i) { return lua_type(L, i) <= 0; }

#endif
