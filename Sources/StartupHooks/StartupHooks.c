// OpenBLAS starts a thread per core in its constructor, before main, and each one spins
// for a while waiting for work: a `moonlab --version` paid for threads it never used.
// Moonlab keeps OpenBLAS on one thread for good (docs/architecture.md, "Run context"), so
// the constructor only needs to see OPENBLAS_NUM_THREADS=1.
//
// The executable's .preinit_array runs before every constructor, but setenv there is
// lost: libc's own initialisation, which runs next, points `environ` back at the array
// the kernel passed. So the hook writes into that array in place: the slot of
// OPENBLAS_NUM_THREADS if the user set it, else the slot of a variable no library reads
// while initialising (`_`, SHLVL, OLDPWD, PWD), and `moonlab_restore_environment()`, the
// first thing `main` does, puts the original entry back. Not a constructor of ours: the
// release binary links OpenBLAS statically, so its constructor runs from the executable's
// own init array, after those of our objects. With none of those variables (`env -i`),
// OpenBLAS starts as it always did.
#include "StartupHooks.h"

#include <string.h>

extern char **environ;

static char pinned_entry[] = "OPENBLAS_NUM_THREADS=1";
// The entry whose slot holds pinned_entry until the constructor. Volatile: the compiler
// would otherwise run the constructor at compile time, see NULL here and drop it.
static char *volatile displaced;

static int has_name(const char *entry, const char *name) {
  size_t n = strlen(name);
  return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

static char **find_slot(char **envp) {
  static const char *const spare[] = {"OPENBLAS_NUM_THREADS", "_", "SHLVL", "OLDPWD", "PWD"};
  for (size_t k = 0; k < sizeof spare / sizeof spare[0]; k++)
    for (char **e = envp; *e; e++)
      if (has_name(*e, spare[k])) return e;
  return NULL;
}

static void pin_openblas_threads(int argc, char **argv, char **envp) {
  (void)argc, (void)argv;
  if (!envp) return;
  char **slot = find_slot(envp);
  if (!slot) return;
  displaced = *slot;
  *slot = pinned_entry;
}

__attribute__((section(".preinit_array"), used)) static void (*preinit)(int, char **, char **) =
    pin_openblas_threads;

// A constructor that called setenv meanwhile made libc copy the array: look for the
// pinned entry wherever `environ` now points.
void moonlab_restore_environment(void) {
  if (!displaced) return;
  for (char **e = environ; e && *e; e++)
    if (*e == pinned_entry) {
      *e = displaced;
      break;
    }
  displaced = NULL;
}
