// swift-tools-version:5.9
import PackageDescription

let release: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

let package = Package(
  name: "Moonlab",
  products: [
    .executable(name: "moonlab", targets: ["moonlab"])
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
  ],
  targets: [
    // System libraries from Debian (scripts/setup.sh installs them).
    .systemLibrary(name: "CLua", pkgConfig: "lua5.4", providers: [.apt(["liblua5.4-dev"])]),
    .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    // The C error trampoline and allocator/hook for Lua (design.md §4).
    .target(name: "LuaShim", dependencies: ["CLua"]),

    .target(name: "MoonlabTensor", dependencies: ["CBLAS"], swiftSettings: release),
    .target(name: "MoonlabNN", dependencies: ["MoonlabTensor"], swiftSettings: release),
    .target(
      name: "MoonlabData", dependencies: ["MoonlabTensor", "CZlib"],
      // The bundled CIFAR-10 sample (docs/data.md), found next to the executable.
      resources: [.copy("Sample")], swiftSettings: release),
    .target(
      name: "MoonlabLua",
      dependencies: ["CLua", "LuaShim", "MoonlabTensor", "MoonlabNN", "MoonlabData"],
      swiftSettings: release),
    .target(name: "MoonlabLab", dependencies: ["MoonlabLua", "CZlib"], swiftSettings: release),
    .executableTarget(
      name: "moonlab",
      dependencies: [
        "MoonlabLab",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .executableTarget(
      name: "MoonlabBench", dependencies: ["MoonlabLab", "CBLAS", "CLua", "LuaShim"],
      path: "bench/MoonlabBench", swiftSettings: release),

    .target(name: "TestSupport", dependencies: ["MoonlabTensor", "MoonlabLua"], path: "Tests/TestSupport"),
    .testTarget(name: "MoonlabTensorTests", dependencies: ["MoonlabTensor", "TestSupport"], exclude: ["Fixtures"]),
    .testTarget(name: "MoonlabNNTests", dependencies: ["MoonlabNN", "TestSupport"], exclude: ["Fixtures"]),
    .testTarget(name: "MoonlabDataTests", dependencies: ["MoonlabData", "TestSupport"]),
    .testTarget(name: "MoonlabLuaTests", dependencies: ["MoonlabLua", "TestSupport"]),
    .testTarget(name: "MoonlabLabTests", dependencies: ["MoonlabLab", "TestSupport"]),
  ]
)
