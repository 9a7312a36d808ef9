import Foundation
import MoonlabLua

/// `--jobs N`: trials in N worker processes, each `moonlab sweep SCRIPT --trial ID` (the
/// script runs again and lab.sweep executes only that trial). Worker output is passed
/// through line by line, prefixed with the trial id.
public enum TrialProcesses {
  static func run(_ trials: [Trial], sweep: Sweep) throws {
    let options = sweep.options
    let executable =
      try options.executable
      ?? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    let request = sweep.session.request
    fflush(stdout)  // our own lines first, then the workers' (written unbuffered)
    let done = DispatchSemaphore(value: 0)
    let output = NSLock()
    var pending = trials[...]
    var running = 0
    var firstError: Error?
    var workers: [Process] = []
    var forwarded = false
    while !pending.isEmpty || running > 0 {
      while running < options.jobs, firstError == nil, Interrupts.pending == nil,
        let t = pending.popFirst()
      {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments =
          ["sweep", request.scriptPath, "--trial", t.id, "--out", sweep.dir.path]
          + options.childOptions + ["--"]
          + request.arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do {
          try process.run()
        } catch {
          firstError = LabError("sweep: can't start \(executable): \(error)")
          break
        }
        running += 1
        workers.append(process)
        Thread.detachNewThread {
          forwardLines(pipe.fileHandleForReading, prefix: "[\(t.id)] ", lock: output)
          process.waitUntilExit()
          done.signal()
        }
      }
      if running == 0 { break }
      // Ctrl-C or SIGTERM here: no new trial starts, and the running ones get the same
      // signal, so each records itself as interrupted (finished trials stay finished).
      while done.wait(timeout: .now() + 0.1) == .timedOut {
        if let signal = Interrupts.pending, !forwarded {
          for w in workers where w.isRunning { kill(w.processIdentifier, signal) }
          forwarded = true
        }
      }
      running -= 1
    }
    if let firstError { throw firstError }
  }

  /// Copies a worker's output to our stdout until EOF, whole lines at a time.
  private static func forwardLines(_ handle: FileHandle, prefix: String, lock: NSLock) {
    var buffer = Data()
    func emit(_ line: Data) {
      lock.lock()
      FileHandle.standardOutput.write(Data(prefix.utf8) + line + Data("\n".utf8))
      lock.unlock()
    }
    while true {
      let chunk = handle.availableData
      if chunk.isEmpty { break }
      buffer.append(chunk)
      while let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
        emit(buffer[buffer.startIndex..<nl])
        buffer.removeSubrange(buffer.startIndex...nl)
      }
    }
    if !buffer.isEmpty { emit(buffer) }
  }

  /// In a worker: die with the parent (killed with SIGKILL, say), so an orphan never
  /// keeps writing into a sweep that a resumed run is also filling. Linux's
  /// PR_SET_PDEATHSIG makes the kernel do it at once; prctl is variadic, which Swift
  /// doesn't import, so it is looked up and called with its integer arguments. A thread
  /// watching getppid() covers the window before the call and systems without prctl.
  public static func exitWithParent() {
    let parent = getppid()
    typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
    if let symbol = dlsym(nil, "prctl") {
      _ = unsafeBitCast(symbol, to: Prctl.self)(1 /* PR_SET_PDEATHSIG */, UInt(SIGKILL), 0, 0, 0)
    }
    Thread.detachNewThread {
      while getppid() == parent { usleep(200_000) }
      _exit(137)
    }
  }
}
