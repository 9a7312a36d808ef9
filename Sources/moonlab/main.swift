import MoonlabCLI
import StartupHooks

// The executable is this file: the commands live in MoonlabCLI, where tests can reach them.
// StartupHooks (a .preinit_array entry, which a shared test bundle can't hold) stays here,
// and puts the environment back before anything reads it.
moonlab_restore_environment()
Moonlab.main()
