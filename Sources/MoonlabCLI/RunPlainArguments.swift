import ArgumentParser

extension RunCommand {
  /// `moonlab run`'s arguments read without ArgumentParser when they are plain: one script,
  /// the options below (`--name value` or `--name=value`, each once but `--set`) with values
  /// that convert and validate, then `--` and the script's arguments. ArgumentParser's
  /// reflection over the options took a quarter of an empty run (docs/architecture.md,
  /// "Start-up and the release binary"). Anything else — help, an unknown, misspelt or
  /// repeated option, a missing or bad value — gives nil: ArgumentParser reads those and
  /// says what is wrong. Tests/MoonlabCLITests hold both readings equal.
  static func parsePlain(_ arguments: [String]) -> Arguments? {
    var script: String?
    var values: [String: String] = [:]
    var settings: [String] = []
    var sandbox = false
    var scriptArguments: [String] = []
    var i = 0
    while i < arguments.count {
      let argument = arguments[i]
      i += 1
      if argument == "--" {
        scriptArguments = Array(arguments[i...])
        break
      }
      if !argument.hasPrefix("-") {
        guard script == nil else { return nil }
        script = argument
        continue
      }
      if argument == "--sandbox" {
        guard !sandbox else { return nil }
        sandbox = true
        continue
      }
      let parts = argument.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      let name = String(parts[0])
      guard let acceptsDash = plainOptions[name] else { return nil }
      let value: String
      if parts.count == 2 {
        value = String(parts[1])
      } else {
        guard i < arguments.count, arguments[i] != "--",
          acceptsDash || !arguments[i].hasPrefix("-")
        else { return nil }
        value = arguments[i]
        i += 1
      }
      if name == "--set" {
        settings.append(value)
      } else if values.updateValue(value, forKey: name) != nil {
        return nil
      }
    }
    guard let script else { return nil }
    do {
      let arguments = Arguments(
        options: ScriptArguments(
          script: script, seed: values["--seed"] ?? ScriptOptions.defaultSeed,
          threads: try number(values["--threads"]) ?? ScriptOptions.cores, settings: settings,
          sandbox: sandbox, memoryLimit: try number(values["--memory-limit"]),
          timeLimit: try number(values["--time-limit"]), scriptArguments: scriptArguments),
        out: values["--out"], np: try number(values["--np"]))
      try arguments.validate()
      return arguments
    } catch {
      return nil
    }
  }

  /// The options `parsePlain` reads, and whether a value may start with "-" (ArgumentParser's
  /// `.unconditional`, for numbers such as `--seed -5`, which `validate` then refuses).
  private static let plainOptions: [String: Bool] = [
    "--seed": true, "--threads": true, "--memory-limit": true, "--time-limit": true,
    "--np": true, "--set": false, "--out": false,
  ]

  /// `text` as a number the way ArgumentParser converts it (`init?(_: String)`), nil when
  /// absent; throws when it does not convert.
  private static func number<T: LosslessStringConvertible>(_ text: String?) throws -> T? {
    guard let text else { return nil }
    guard let value = T(text) else { throw ValidationError("not a number: \(text)") }
    return value
  }
}
