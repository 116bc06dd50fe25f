// swift-tools-version:6.1
// tokbench — compare image tokenizers under an information budget.
// Modules (one job each, data flows one way):
//   CBLAS/CPNG/CZlib (system shims) → Kernels → Layers → Tokenizers
//   Datasets → Tokenizers → Evaluation (uses Coding) → Store → Reports → Harness → tokbench (CLI)
import PackageDescription

let optimize: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))]

let package = Package(
    name: "tokbench",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "tokbench", targets: ["tokbench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        .target(name: "CPNG", linkerSettings: [.linkedLibrary("png16")]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "CJPEG", linkerSettings: [.linkedLibrary("turbojpeg")]),

        .systemLibrary(name: "CBLAS", providers: [.apt(["libopenblas-dev"])]),

        .target(name: "MetricCatalogue", path: "Sources/Metrics/Catalogue"),
        .target(name: "Kernels", dependencies: ["CBLAS"], swiftSettings: optimize),
        .target(name: "Layers", dependencies: ["Kernels"], swiftSettings: optimize),
        .target(name: "Datasets", dependencies: ["Kernels", "CPNG", "CZlib", "CJPEG"], swiftSettings: optimize),
        .target(name: "Coding", dependencies: [], swiftSettings: optimize),
        .target(name: "Tokenizers", dependencies: ["MetricCatalogue", "Layers", "Kernels", "Datasets"], swiftSettings: optimize),
        .target(name: "Evaluation", dependencies: ["MetricCatalogue", "Tokenizers", "Datasets", "Coding", "CPNG"], swiftSettings: optimize),
        .target(name: "Store", dependencies: ["MetricCatalogue", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "Reports", dependencies: ["MetricCatalogue", "Store", "Evaluation", "Datasets"]),
        .target(name: "Harness", dependencies: ["MetricCatalogue", "Kernels", "Datasets", "Tokenizers", "Evaluation", "Coding", "Store", "Reports"]),
        .executableTarget(name: "tokbench", dependencies: [
            "Harness", "Store", "Evaluation", "Reports", "Datasets", "Tokenizers", "Layers", "Kernels",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        .testTarget(name: "LayersTests", dependencies: ["Layers", "Kernels"], resources: [.copy("Fixtures")]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Kernels"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "Datasets", "Layers", "Kernels"]),
        .testTarget(name: "CodingTests", dependencies: ["Coding"]),
        .testTarget(name: "EvaluationTests", dependencies: ["MetricCatalogue", "Evaluation", "Tokenizers", "Datasets", "Kernels"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "MetricCatalogue", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "HarnessTests", dependencies: ["Harness", "Store", "Tokenizers", "Coding", "Datasets", "Kernels"]),
        .testTarget(name: "ReportsTests", dependencies: ["MetricCatalogue", "Reports", "Store"]),
    ],
    swiftLanguageModes: [.v5]
)

// Fuzz targets (scripts/fuzz.sh): only with TOKBENCH_FUZZ=1, built with --sanitize=fuzzer.
import Foundation
if ProcessInfo.processInfo.environment["TOKBENCH_FUZZ"] == "1" {
    package.targets.append(.executableTarget(name: "Fuzz", dependencies: ["Coding", "Datasets", "Harness"],
                                             swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
    package.products.append(.executable(name: "tokbench-fuzz", targets: ["Fuzz"]))
}
