import Foundation
import XCTest

/// The shared real data (CIFAR-10, MNIST): $MOONLAB_DATA, else ../shared/data next to
/// the repository; tests that need it skip when it is absent.
func sharedData(_ name: String) throws -> URL {
  let env = ProcessInfo.processInfo.environment["MOONLAB_DATA"].map { URL(fileURLWithPath: $0) }
  let sibling = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../../shared/data").standardized
  for root in [env, sibling].compactMap({ $0 }) {
    let folder = root.appendingPathComponent(name)
    if FileManager.default.fileExists(atPath: folder.path) { return folder }
  }
  throw XCTSkip("no \(name) under $MOONLAB_DATA or ../shared/data")
}

/// A fresh temporary folder, removed when the test ends.
func temporaryFolder(_ test: XCTestCase) throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent(
    "moonlab-data-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
  return url
}

/// Runs a command line tool; throws XCTSkip when it is not installed.
@discardableResult
func runTool(_ tool: String, _ arguments: [String], in folder: URL? = nil) throws -> Data {
  guard
    let path = ["/usr/bin/", "/bin/", "/usr/local/bin/"].map({ $0 + tool }).first(where: {
      FileManager.default.isExecutableFile(atPath: $0)
    })
  else { throw XCTSkip("\(tool) is not installed") }
  let p = Process()
  p.executableURL = URL(fileURLWithPath: path)
  p.arguments = arguments
  if let folder { p.currentDirectoryURL = folder }
  let out = Pipe()
  p.standardOutput = out
  try p.run()
  let data = out.fileHandleForReading.readDataToEndOfFile()
  p.waitUntilExit()
  guard p.terminationStatus == 0 else {
    throw NSError(domain: "\(tool) failed", code: Int(p.terminationStatus))
  }
  return data
}
