import Foundation
import TestSupport
import XCTest

/// Issue 17: what a fresh `moonlab` process does before and around its work
/// (docs/architecture.md, "Start-up and the release binary").
final class StartupTests: XCTestCase {
  private func moonlab(_ args: [String], environment: [String: String]? = nil) throws
    -> ProcessResult
  {
    guard FileManager.default.isExecutableFile(atPath: TestPaths.moonlab.path) else {
      throw XCTSkip("build the moonlab product first (swift build): \(TestPaths.moonlab.path)")
    }
    return try runProcess(
      TestPaths.moonlab, args, environment: environment,
      currentDirectory: try TestPaths.temporaryDirectory())
  }

  func testVersionAnswersAndOtherArgumentsStillParse() throws {
    let r = try moonlab(["--version"])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertEqual(r.stdout, "0.1.0\n")
    // Anything else still goes through ArgumentParser.
    let sub = try moonlab(["run", "--version"])
    XCTAssertEqual(sub.stdout, "0.1.0\n", sub.stderr)
    let wrong = try moonlab(["--bogus"])
    XCTAssertEqual(wrong.status, 64)
    XCTAssertTrue(wrong.stderr.contains("Unknown option '--bogus'"), wrong.stderr)
  }

  /// OpenBLAS starts no threads before main (Sources/StartupHooks): a one-thread run has one
  /// thread, and the variable the hook borrowed for OpenBLAS's constructor is back as the
  /// user had it (set, or unset) when the script reads the environment.
  func testOpenBLASStartsNoThreadsAndEnvironmentIsRestored() throws {
    let url = try TestPaths.temporaryDirectory().appendingPathComponent("env.lua")
    try """
    local status = io.open('/proc/self/status'):read('a')
    print(status:match('Threads:%s*(%d+)'), os.getenv('OPENBLAS_NUM_THREADS'), os.getenv('_'))
    """.write(to: url, atomically: true, encoding: .utf8)
    let base = ["PATH": "/usr/bin:/bin", "_": "/usr/bin/moonlab"]
    for (extra, expected) in [
      ([:], "1\tnil\t/usr/bin/moonlab\n"),
      (["OPENBLAS_NUM_THREADS": "3"], "1\t3\t/usr/bin/moonlab\n"),
    ] {
      let r = try moonlab(
        ["run", "--threads", "1", url.path], environment: base.merging(extra) { a, _ in a })
      XCTAssertEqual(r.status, 0, r.stderr)
      XCTAssertEqual(r.stdout, expected, "environment \(extra)")
    }
  }

  /// The release binary links the Swift runtime and Foundation in (Package.swift):
  /// nothing it loads comes from the toolchain. scripts/release_check.sh runs the tarball's
  /// binary with the toolchain hidden.
  func testReleaseBinaryLoadsNothingFromTheToolchain() throws {
    #if DEBUG
      throw XCTSkip("debug builds link the Swift runtime dynamically")
    #else
      let ldd = try runProcess(URL(fileURLWithPath: "/usr/bin/ldd"), [TestPaths.moonlab.path])
      XCTAssertEqual(ldd.status, 0, ldd.stderr)
      XCTAssertFalse(ldd.stdout.contains("libswiftCore"), ldd.stdout)
      XCTAssertFalse(ldd.stdout.contains("libFoundation"), ldd.stdout)
      XCTAssertFalse(ldd.stdout.contains("libcurl"), ldd.stdout)
      XCTAssertFalse(ldd.stdout.contains("not found"), ldd.stdout)
    #endif
  }

  /// `moonlab bench startup` prints both timings bench/run.sh compares with PyTorch.
  func testStartupBenchmarkReportsBothTimes() throws {
    let r = try moonlab(["bench", "startup"])
    XCTAssertEqual(r.status, 0, r.stderr)
    for name in ["startup_empty_script", "startup_version"] {
      let line = r.stdout.split(separator: "\n").first { $0.hasPrefix(name + ": ") }
      let value = line.flatMap { Double($0.split(separator: " ")[1]) }
      XCTAssertNotNil(value, r.stdout)
      XCTAssertGreaterThan(value ?? 0, 0)
      XCTAssertTrue(line?.contains(" ms ") ?? false, r.stdout)
    }
  }
}
