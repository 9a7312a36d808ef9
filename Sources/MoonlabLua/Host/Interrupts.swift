import LuaShim

/// Ctrl-C and SIGTERM for a run (docs/lab.md, "Interrupted runs"): the first signal stops
/// the script at its next Lua hook or Swift call with "interrupted by …", so the run can be
/// recorded as interrupted; a second one ends the process at once.
public enum Interrupts {
  public static func install() { moonlab_install_signal_handlers() }

  /// The signal that asked the run to stop (SIGINT, SIGTERM), or nil.
  public static var pending: Int32? {
    let s = moonlab_pending_signal()
    return s == 0 ? nil : s
  }
}
