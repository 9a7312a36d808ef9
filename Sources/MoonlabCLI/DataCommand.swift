import ArgumentParser
import Foundation
import MoonlabData

/// `moonlab data fetch cifar10|mnist` and `moonlab data info`.
struct DataCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "data", abstract: "Download datasets and show what is found where.",
    subcommands: [Fetch.self, Info.self])

  struct Fetch: ParsableCommand {
    // Named here, or every start derives it from the type's name with String(describing:),
    // a scan of all protocol conformances (docs/architecture.md, "Start-up and the release binary").
    static let configuration = CommandConfiguration(
      commandName: "fetch",
      abstract: "Download a dataset, check its digest and install it into the data root.")

    @Argument(help: "cifar10 or mnist.") var dataset: String
    @Option(help: "Data root (default: $MOONLAB_DATA, then ./data).") var root: String?
    @Option(
      name: .customLong("url-base"),
      help: "Download from this base URL instead of the official host.")
    var urlBase: String?

    func run() throws {
      let target = root.map { URL(fileURLWithPath: $0) } ?? DataRoot.candidates()[0]
      do {
        try MoonlabData.Fetch.fetch(dataset, root: target, urlBase: urlBase) { print($0) }
      } catch {
        throw fail(String(describing: error), code: 1)
      }
    }
  }

  struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "info",
      abstract: "Show which datasets are found where.")
    @Option(help: "Data root to inspect (default: $MOONLAB_DATA, then ./data).") var root: String?

    func run() throws {
      for line in DataInfo.report(root: root) { print(line) }
    }
  }
}
