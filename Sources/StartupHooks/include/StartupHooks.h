// Process start-up hooks of the moonlab executable (StartupHooks.c; docs/architecture.md,
// "Start-up and the release binary"): a .preinit_array entry that runs by itself, and the
// function `main` calls first to undo what it did to the environment.
#ifndef MOONLAB_STARTUPHOOKS_H
#define MOONLAB_STARTUPHOOKS_H

void moonlab_restore_environment(void);

#endif
