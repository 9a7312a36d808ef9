import Foundation
import MoonlabTensor

/// `moonlab kernel install`: writes the Jupyter kernel spec `moonlab` — kernel.json and
/// the Python wrapper kernel below — into a Jupyter data directory.
public enum KernelSpec {
  public enum Location {
    /// ~/.local/share/jupyter (or $JUPYTER_DATA_DIR): this user only.
    case user
    /// PREFIX/share/jupyter, e.g. a virtual environment's prefix.
    case prefix(String)
    /// /usr/local/share/jupyter: everyone on the machine.
    case system

    var kernelsDirectory: URL {
      let env = ProcessInfo.processInfo.environment
      switch self {
      case .user:
        if let dir = env["JUPYTER_DATA_DIR"] {
          return URL(fileURLWithPath: dir).appendingPathComponent("kernels")
        }
        let data =
          env["XDG_DATA_HOME"].map { URL(fileURLWithPath: $0) }
          ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/share")
        return data.appendingPathComponent("jupyter/kernels")
      case .prefix(let p):
        return URL(fileURLWithPath: p).appendingPathComponent("share/jupyter/kernels")
      case .system: return URL(fileURLWithPath: "/usr/local/share/jupyter/kernels")
      }
    }
  }

  /// Installs the spec; `moonlab` is the executable the kernel starts, `python` the
  /// interpreter that has ipykernel. Returns the spec's directory.
  @discardableResult
  public static func install(at location: Location, moonlab: String, python: String) throws -> URL {
    let dir = location.kernelsDirectory.appendingPathComponent("moonlab")
    try Folder.create(dir)
    let wrapper = dir.appendingPathComponent("moonlab_kernel.py")
    try AtomicFile.write(wrapperSource, to: wrapper)
    let spec: [String: Any] = [
      "argv": [python, wrapper.path, "-f", "{connection_file}"],
      "display_name": "Moonlab (Lua)",
      "language": "lua",
      "interrupt_mode": "signal",
      "env": ["MOONLAB_BIN": moonlab],
    ]
    let json = try JSONSerialization.data(
      withJSONObject: spec, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    try AtomicFile.write(json, to: dir.appendingPathComponent("kernel.json"))
    return dir
  }

  /// The wrapper kernel: ipykernel speaks Jupyter's messaging protocol (ZeroMQ, HMAC
  /// signing, heartbeat, comms); a `moonlab kernel serve` child runs the Lua, answering
  /// the line-delimited JSON described in KernelServer.
  static let wrapperSource = #"""
    """Jupyter kernel for Moonlab (Lua 5.4): ipykernel on the Jupyter side, a
    `moonlab kernel serve` child process holding the Lua state on the other."""
    import json
    import os
    import signal
    import subprocess
    import threading

    from ipykernel.kernelapp import IPKernelApp
    from ipykernel.kernelbase import Kernel

    MOONLAB = os.environ.get("MOONLAB_BIN", "moonlab")


    class MoonlabKernel(Kernel):
        implementation = "moonlab"
        implementation_version = "1.0"
        language = "lua"
        language_version = "5.4"
        language_info = {
            "name": "lua", "version": "5.4", "mimetype": "text/x-lua",
            "file_extension": ".lua", "codemirror_mode": "lua", "pygments_lexer": "lua",
        }
        banner = "Moonlab: Lua 5.4 with tensors, nn, optim, data, lab and report"

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self._request = 0
            self._stderr = []
            self._lock = threading.Lock()
            self._start()

        def _start(self):
            self._child = subprocess.Popen(
                [MOONLAB, "kernel", "serve"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            threading.Thread(target=self._collect_stderr, args=(self._child,), daemon=True).start()
            ready = self._child.stdout.readline()
            if not ready:
                raise RuntimeError("moonlab kernel serve did not start: " + "".join(self._stderr))

        def _collect_stderr(self, child):
            for line in iter(child.stderr.readline, b""):
                with self._lock:
                    self._stderr.append(line.decode("utf-8", "replace"))

        def _flush_stderr(self, silent):
            with self._lock:
                text, self._stderr = "".join(self._stderr), []
            if text and not silent:
                self.send_response(self.iopub_socket, "stream", {"name": "stderr", "text": text})

        def _interrupt(self, signum, frame):
            """Jupyter's interrupt: the child's SIGINT handler stops the running cell."""
            self._child.send_signal(signal.SIGINT)

        def do_execute(self, code, silent, store_history=True, user_expressions=None, allow_stdin=False):
            if self._child.poll() is not None:
                self._start()
            self._request += 1
            line = json.dumps({"id": self._request, "code": code}) + "\n"
            self._child.stdin.write(line.encode("utf-8"))
            self._child.stdin.flush()
            try:  # forward SIGINT instead of raising KeyboardInterrupt mid-exchange
                signal.signal(signal.SIGINT, self._interrupt)
            except ValueError:  # not the main thread: the process group signal suffices
                pass
            error = None
            while True:
                raw = self._child.stdout.readline()
                self._flush_stderr(silent)
                if not raw:
                    error = {"message": "moonlab kernel process ended", "traceback": []}
                    self._start()
                    break
                msg = json.loads(raw)
                if msg.get("id") != self._request:
                    continue  # the tail of an earlier request
                kind = msg.get("type")
                if kind == "done":
                    break
                if kind == "error":
                    error = msg
                    if not silent:
                        self.send_response(self.iopub_socket, "error", {
                            "ename": "LuaError", "evalue": msg["message"], "traceback": msg["traceback"]})
                elif silent:
                    continue
                elif kind == "stream":
                    self.send_response(self.iopub_socket, "stream", {"name": msg["name"], "text": msg["text"]})
                elif kind == "display":
                    self.send_response(self.iopub_socket, "display_data", {"data": msg["data"], "metadata": {}})
                elif kind == "result":
                    self.send_response(self.iopub_socket, "execute_result", {
                        "execution_count": self.execution_count,
                        "data": {"text/plain": msg["text"]}, "metadata": {}})
            if error is not None:
                return {"status": "error", "execution_count": self.execution_count, "ename": "LuaError",
                        "evalue": error["message"], "traceback": error["traceback"]}
            return {"status": "ok", "execution_count": self.execution_count, "payload": [],
                    "user_expressions": {}}

        def do_shutdown(self, restart):
            if self._child.poll() is None:
                self._child.stdin.close()
                try:
                    self._child.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._child.kill()
            return {"status": "ok", "restart": restart}


    if __name__ == "__main__":
        IPKernelApp.launch_instance(kernel_class=MoonlabKernel)

    """#
}
