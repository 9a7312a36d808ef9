// swift-tools-version:5.9
import Foundation
import PackageDescription

/// Release builds target the building machine's vector unit (docs/architecture.md, "Build
/// targets"): with AVX2 and FMA (x86 servers since 2013–2015) SIMD8 kernels become one
/// 8-wide instruction instead of two 4-wide ones and `MOONLAB_FMA` lets kernels fuse
/// multiply-adds; with AVX-512 as well (Skylake-SP, Zen 4 and later) SIMD16 kernels become
/// one 16-wide instruction with 32 registers (`MOONLAB_AVX512`). Such a binary needs that
/// CPU; MOONLAB_PORTABLE=1 builds for any x86-64.
let hostVectorFlags: [String] = {
  #if arch(x86_64) && os(Linux)
    guard ProcessInfo.processInfo.environment["MOONLAB_PORTABLE"] == nil,
      let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
      let flagLine = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
    else { return [] }
    let flags = Set(flagLine.split(separator: " "))
    guard flags.contains("avx2") && flags.contains("fma") else { return [] }
    // skylake-avx512 is the AVX-512 subset every such CPU has (F, CD, BW, DQ, VL).
    let avx512 = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy {
      flags.contains(Substring($0))
    }
    return avx512
      ? ["-target-cpu", "skylake-avx512", "-DMOONLAB_FMA", "-DMOONLAB_AVX512"]
      : ["-target-cpu", "haswell", "-DMOONLAB_FMA"]
  #else
    return []
  #endif
}()

let release: [SwiftSetting] = [
  .unsafeFlags(["-Ounchecked"] + hostVectorFlags, .when(configuration: .release))
]

/// The Swift runtime and Foundation linked statically into the release executable, which
/// is position-dependent (`-no-pie`: no relative relocations to apply at each start)
/// (docs/architecture.md, "Start-up and the release binary"). `-static-stdlib` alone picks
/// the static libraries but not what the static Foundation needs behind it (the compiler
/// records those only when every module is compiled with the flag, which the dynamically
/// linked test bundles can't be), so they are named here.
let staticStdlib = [
  "-static-stdlib", "-Xclang-linker", "-no-pie",
  "-lFoundationEssentials", "-lFoundationInternationalization", "-lCoreFoundation",
  "-l_FoundationICU", "-l_FoundationCShims", "-l_FoundationCollections",
  "-lswiftSynchronization",
]

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
    // OpenBLAS's headers from Debian's multiarch include folder; the library is linked by
    // MoonlabTensor below.
    .systemLibrary(name: "CBLAS", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    // The C error trampoline and allocator/hook for Lua (docs/architecture.md, "The Lua bridge").
    .target(name: "LuaShim", dependencies: ["CLua"]),
    // Runs before the shared libraries' constructors: OpenBLAS starts no threads until a run
    // asks for them (docs/architecture.md, "Start-up and the release binary").
    .target(name: "StartupHooks"),
    // `data fetch`'s download, through libcurl loaded on first use (docs/data.md, "Fetching").
    .target(name: "HTTPGet", linkerSettings: [.linkedLibrary("dl")]),
    // Open MPI loaded on first use, for data-parallel training (docs/scale-out.md).
    .target(name: "MPIShim", linkerSettings: [.linkedLibrary("dl")]),

    // OpenBLAS linked statically into release builds: its ~12,000 symbol relocations were
    // most of the dynamic loader's work at every start (docs/architecture.md, "Start-up and
    // the release binary"); debug builds link the shared library.
    .target(
      name: "MoonlabTensor", dependencies: ["CBLAS"], swiftSettings: release,
      linkerSettings: [
        .linkedLibrary("openblas", .when(configuration: .debug)),
        .unsafeFlags(["-Xlinker", "-l:libopenblas.a"], .when(configuration: .release)),
      ]),
    .target(name: "MoonlabNN", dependencies: ["MoonlabTensor"], swiftSettings: release),
    .target(
      name: "MoonlabData", dependencies: ["MoonlabTensor", "CZlib", "HTTPGet"],
      // The bundled CIFAR-10 sample (docs/data.md), found next to the executable.
      resources: [.copy("Sample")], swiftSettings: release),
    .target(
      name: "MoonlabLua",
      dependencies: ["CLua", "LuaShim", "MoonlabTensor", "MoonlabNN", "MoonlabData"],
      swiftSettings: release),
    .target(
      name: "MoonlabLab", dependencies: ["MoonlabLua", "CZlib", "MPIShim"], swiftSettings: release),
    // The commands (swift-argument-parser), a library so that tests can call their parsing.
    .target(
      name: "MoonlabCLI",
      dependencies: [
        "MoonlabLab", "MoonlabBenchmarks",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .executableTarget(
      name: "moonlab", dependencies: ["MoonlabCLI", "StartupHooks"],
      // Runs without the toolchain and starts without loading its libraries (see above).
      linkerSettings: [.unsafeFlags(staticStdlib, .when(configuration: .release))]),
    // The suite behind `moonlab bench` (bench/README.md).
    .target(
      name: "MoonlabBenchmarks", dependencies: ["MoonlabLab", "CBLAS", "CLua", "LuaShim"],
      path: "bench/MoonlabBenchmarks", swiftSettings: release),

    .target(
      name: "TestSupport", dependencies: ["MoonlabTensor", "MoonlabLua"], path: "Tests/TestSupport"),
    .testTarget(
      name: "MoonlabTensorTests", dependencies: ["MoonlabTensor", "TestSupport"],
      exclude: ["Fixtures"]),
    .testTarget(
      name: "MoonlabNNTests", dependencies: ["MoonlabNN", "TestSupport"], exclude: ["Fixtures"]),
    .testTarget(name: "MoonlabDataTests", dependencies: ["MoonlabData", "TestSupport"]),
    .testTarget(name: "MoonlabLuaTests", dependencies: ["MoonlabLua", "TestSupport"]),
    .testTarget(
      name: "MoonlabLabTests", dependencies: ["MoonlabLab", "TestSupport"], exclude: ["Scripts"]),
    .testTarget(name: "MoonlabCLITests", dependencies: ["MoonlabCLI", "TestSupport"]),
  ]
)
