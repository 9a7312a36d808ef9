import ArgumentParser
import XCTest

@testable import MoonlabCLI

/// `RunCommand.parsePlain` reads plain `moonlab run` arguments without ArgumentParser; it
/// must read them exactly as ArgumentParser does and leave everything else to it.
final class RunPlainArgumentsTests: XCTestCase {
  func testPlainArgumentsAreReadAsArgumentParserReadsThem() throws {
    let cases: [[String]] = [
      ["a.lua"],
      ["a.lua", "--out", "runs/x"],
      ["--seed", "7", "a.lua"],
      ["a.lua", "--seed", "18446744073709551615", "--threads", "1"],
      ["a.lua", "--threads=2", "--set", "lr=0.1", "--set=name=a=b", "--set", "k="],
      ["a.lua", "--sandbox", "--memory-limit", "64", "--time-limit", "2.5"],
      ["a.lua", "--time-limit=1e3", "--memory-limit=+8", "--np", "2", "--out=d"],
      ["a.lua", "--", "--lr", "0.1", "-x", "--", "b.lua"],
      ["a.lua", "--"],
      ["path with space/é.lua", "--out", "dir with space"],
    ]
    for arguments in cases {
      let plain = try XCTUnwrap(RunCommand.parsePlain(arguments), "\(arguments)")
      let full = try XCTUnwrap(RunCommand.parseAsRoot(arguments) as? RunCommand, "\(arguments)")
      XCTAssertEqual(plain, full.arguments, "\(arguments)")
    }
  }

  func testOtherArgumentsAreLeftToArgumentParser() throws {
    // ArgumentParser refuses these with its own message.
    let refused: [[String]] = [
      [], ["a.lua", "b.lua"], ["a.lua", "--bogus"], ["a.lua", "--out"],
      ["a.lua", "--out", "-x"], ["a.lua", "--seed", "-5"], ["a.lua", "--threads", "abc"],
      ["a.lua", "--threads", "0"], ["a.lua", "--threads", "257"], ["a.lua", "--set", "novalue"],
      ["a.lua", "--set", "k=1", "--set", "k=2"], ["a.lua", "--np", "0"], ["a.lua", "--version"],
      ["a.lua", "--memory-limit", "-1"], ["a.lua", "--time-limit", "nan"],
      ["a.lua", "--sandbox=1"],
      ["a.lua", "-s"], ["a.lua", "--seed"], ["a.lua", "--seed", "--", "x"],
    ]
    for arguments in refused {
      XCTAssertNil(RunCommand.parsePlain(arguments), "\(arguments)")
      XCTAssertThrowsError(try RunCommand.parseAsRoot(arguments), "\(arguments)")
    }
    // Help, and forms ArgumentParser may take as it decides.
    let others = [
      ["--help"], ["a.lua", "-h"], ["a.lua", "--out", "a", "--out", "b"],
      ["a.lua", "--sandbox", "--sandbox"], ["-"],
    ]
    for arguments in others {
      XCTAssertNil(RunCommand.parsePlain(arguments), "\(arguments)")
    }
  }
}
