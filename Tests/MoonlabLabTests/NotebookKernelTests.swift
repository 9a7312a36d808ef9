import Foundation
import TestSupport
import XCTest

/// `moonlab kernel serve`, the Lua side of the Jupyter kernel, driven over its JSON-lines
/// protocol as the Python wrapper drives it (scripts/notebook_check.sh runs the wrapper
/// itself under Jupyter).
final class NotebookKernelTests: XCTestCase {
  private final class Server {
    let process = Process()
    private let input = Pipe(), output = Pipe()
    private var buffer = Data()

    init(runDir: URL) throws {
      process.executableURL = TestPaths.moonlab
      process.arguments = ["kernel", "serve", "--out", runDir.path]
      process.standardInput = input
      process.standardOutput = output
      process.standardError = FileHandle.nullDevice
      try process.run()
    }

    /// The next protocol message.
    func read() throws -> [String: Any] {
      while true {
        if let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
          let line = buffer[buffer.startIndex..<nl]
          buffer = Data(buffer[(nl + 1)...])
          return try XCTUnwrap(try JSONSerialization.jsonObject(with: line) as? [String: Any])
        }
        let more = output.fileHandleForReading.availableData
        if more.isEmpty {
          throw CocoaError(
            .fileReadUnknown, userInfo: [NSDebugDescriptionErrorKey: "kernel server ended"])
        }
        buffer += more
      }
    }

    func send(_ id: Int, _ code: String) throws {
      var line = try JSONSerialization.data(withJSONObject: ["id": id, "code": code])
      line.append(UInt8(ascii: "\n"))
      input.fileHandleForWriting.write(line)
    }

    /// Sends a request and collects its messages up to "done".
    func execute(_ id: Int, _ code: String) throws -> [[String: Any]] {
      try send(id, code)
      return try readUntilDone()
    }

    func readUntilDone() throws -> [[String: Any]] {
      var messages: [[String: Any]] = []
      while true {
        let m = try read()
        messages.append(m)
        if m["type"] as? String == "done" { return messages }
      }
    }

    func stop() throws {
      try input.fileHandleForWriting.close()
      process.waitUntilExit()
    }
  }

  func testStateStreamsResultsErrorsInterruptAndReport() throws {
    guard FileManager.default.isExecutableFile(atPath: TestPaths.moonlab.path) else {
      throw XCTSkip("build the moonlab product first (swift build): \(TestPaths.moonlab.path)")
    }
    let runDir = try TestPaths.temporaryDirectory().appendingPathComponent("kernel")
    let server = try Server(runDir: runDir)
    XCTAssertEqual(try server.read()["type"] as? String, "ready")

    var m = try server.execute(1, "answer = 42\nprint('hello', answer)")
    XCTAssertEqual(m.first?["text"] as? String, "hello\t42\n")
    XCTAssertEqual(m.first?["id"] as? Int, 1)
    XCTAssertEqual(m.last?["status"] as? String, "ok")

    m = try server.execute(10, "local a, b = 20, nil\nlocal function twice(x) return 2 * x end")
    XCTAssertEqual(m.last?["status"] as? String, "ok")
    m = try server.execute(11, "print(twice(a) + 1, b)\na = 5")
    XCTAssertEqual(m.first?["text"] as? String, "41\tnil\n", "locals of a cell reach the next ones")
    m = try server.execute(12, "print(a)\nreturn a")
    XCTAssertEqual(m.map { $0["text"] as? String }, ["5\n", "5", nil])

    m = try server.execute(2, "answer / 2")
    XCTAssertEqual(m.first?["type"] as? String, "result")
    XCTAssertEqual(m.first?["text"] as? String, "21.0")

    m = try server.execute(3, "local a = 1\n\nerror('boom')")
    XCTAssertEqual(m.first?["message"] as? String, "In[3]:3: boom")
    XCTAssertTrue((m.first?["traceback"] as? [String])?.contains("stack traceback:") ?? false)
    XCTAssertEqual(m.last?["status"] as? String, "error")

    m = try server.execute(4, "report.text('**hi**')\nprint('after')")
    XCTAssertEqual(m.map { $0["type"] as? String }, ["display", "stream", "done"])
    XCTAssertEqual((m[0]["data"] as? [String: String])?["text/markdown"], "**hi**")

    // Interrupt: SIGINT once the loop runs; the request fails, the state lives on.
    try server.send(5, "print('looping')\nwhile true do end")
    XCTAssertEqual(try server.read()["text"] as? String, "looping\n")
    server.process.interrupt()
    m = try server.readUntilDone()
    XCTAssertTrue((m.first?["message"] as? String)?.contains("interrupted") ?? false, "\(m)")
    XCTAssertEqual(m.last?["status"] as? String, "error")
    m = try server.execute(6, "print(answer)")
    XCTAssertEqual(m.first?["text"] as? String, "42\n")

    try server.stop()
    XCTAssertEqual(server.process.terminationStatus, 0)
    XCTAssertTrue(
      FileManager.default.fileExists(atPath: runDir.appendingPathComponent("report.html").path))
  }
}
