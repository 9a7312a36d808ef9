// Process start-up hooks of the moonlab executable (StartupHooks.c; docs/architecture.md,
// "Start-up and the release binary"). They run from the executable's init arrays by
// themselves: linking the target in is all it takes, there is nothing to call.
#ifndef MOONLAB_STARTUPHOOKS_H
#define MOONLAB_STARTUPHOOKS_H
#endif
