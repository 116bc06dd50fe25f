// swift-tools-version:6.1
// tokbench — compare image tokenizers under an information budget.
// ARCHITECTURE.md is the map. Data flows one way:
//   dataset → tokenizer (encode → tokens → decode) → evaluator → store → report.
// Each target's dependencies are exactly what its sources import (scripts/check-layout.py checks it).
import PackageDescription

let optimize: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))]
// The lossless coder and the perceptual networks are optimized in debug builds too: the tests and cli-checks code real images with it
// (data rates, `tokbench fit-prior` regenerating the committed prior), which is ~20x slower unoptimized.
let optimizeAlways: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release)),
                                      .unsafeFlags(["-O"], .when(configuration: .debug))]

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
        // System-library shims.
        .target(name: "CPNG", linkerSettings: [.linkedLibrary("png16")]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "CJPEG", linkerSettings: [.linkedLibrary("turbojpeg")]),
        .systemLibrary(name: "CBLAS", providers: [.apt(["libopenblas-dev"])]),

        // Engine.
        .target(name: "Kernels", dependencies: ["CBLAS"], swiftSettings: optimize),
        .target(name: "Layers", dependencies: ["Kernels"], swiftSettings: optimize),
        // Vocabulary shared by every stage: typed settings, the metric catalogue.
        .target(name: "Settings"),
        .target(name: "MetricCatalogue", path: "Sources/Metrics/Catalogue"),
        // Stages, in the order data flows.
        .target(name: "Datasets", dependencies: ["Kernels", "CPNG", "CZlib", "CJPEG"], swiftSettings: optimize),
        .target(name: "Backbones", dependencies: ["Kernels", "Layers", "Settings"], swiftSettings: optimize),
        .target(name: "Quantizers", dependencies: ["Kernels", "Layers", "Settings", "MetricCatalogue"], swiftSettings: optimize),
        .target(name: "Tokenizers", dependencies: ["Kernels", "Layers", "Backbones", "Quantizers", "Settings", "MetricCatalogue", "Datasets"],
                swiftSettings: optimize),
        .target(name: "Training", dependencies: ["Kernels", "Settings", "MetricCatalogue", "Datasets", "Tokenizers"], swiftSettings: optimize),
        .target(name: "Coding", dependencies: [], swiftSettings: optimizeAlways),
        // AR probing: the autoregressive prior over a run's tokens.
        .target(name: "Probing", dependencies: ["Kernels", "Layers", "Settings"], swiftSettings: optimizeAlways),
        // The perceptual networks of rFID and LPIPS (forward only), read from their weights files as they are.
        .target(name: "Perceptual", dependencies: ["Kernels", "Datasets"], swiftSettings: optimizeAlways),
        .target(name: "Metrics", dependencies: ["MetricCatalogue", "Datasets", "Tokenizers", "Coding", "Perceptual"], path: "Sources/Metrics",
                exclude: ["Catalogue"], swiftSettings: optimize),
        .target(name: "Store", dependencies: ["MetricCatalogue", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "Experiments", dependencies: ["Kernels", "Settings", "MetricCatalogue", "Datasets", "Tokenizers", "Training", "Metrics", "Store", "Probing",
                                             "Perceptual"]),
        .target(name: "Reports", dependencies: ["MetricCatalogue", "Kernels", "Datasets", "Store"]),
        .target(name: "Tools", dependencies: ["Kernels", "Layers", "Backbones", "Settings", "Datasets", "Tokenizers", "Coding", "Metrics", "Store", "Experiments",
                                       "Perceptual", "Probing"],
                swiftSettings: optimize),
        .executableTarget(name: "tokbench", dependencies: [
            "Kernels", "Datasets", "Tokenizers", "Store", "Experiments", "Reports", "Tools", "Perceptual",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        .testTarget(name: "LayersTests", dependencies: ["Layers", "Kernels", "Backbones", "Tokenizers", "Settings", "Datasets", "MetricCatalogue"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "CZlib"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "Backbones", "Quantizers", "Settings", "Training", "Datasets", "Layers",
                                                            "Kernels", "MetricCatalogue"]),
        .testTarget(name: "CodingTests", dependencies: ["Coding"]),
        .testTarget(name: "MetricsTests", dependencies: ["MetricCatalogue", "Metrics", "Tokenizers", "Datasets", "Kernels", "Coding"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "MetricCatalogue", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Probing", "Reports", "Store", "Tokenizers", "Training", "Datasets", "Kernels", "Settings", "Metrics", "MetricCatalogue"]),
        .testTarget(name: "ProbingTests", dependencies: ["Probing", "Layers", "Kernels"]),
        .testTarget(name: "PerceptualTests", dependencies: ["Perceptual", "Metrics", "Datasets", "Kernels"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ToolsTests", dependencies: ["Tools", "Coding", "Datasets", "Kernels"]),
        .testTarget(name: "ReportsTests", dependencies: ["MetricCatalogue", "Reports", "Store"]),
    ],
    swiftLanguageModes: [.v5]
)

// Fuzz targets (scripts/fuzz.sh): only with TOKBENCH_FUZZ=1, built with --sanitize=fuzzer.
import Foundation
if ProcessInfo.processInfo.environment["TOKBENCH_FUZZ"] == "1" {
    package.targets.append(.executableTarget(name: "Fuzz", dependencies: ["Coding", "Datasets", "Experiments"],
                                             swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
    package.products.append(.executable(name: "tokbench-fuzz", targets: ["Fuzz"]))
}
