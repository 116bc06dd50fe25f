import ArgumentParser
import Foundation
import Datasets
import Tools

struct FitPriorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit-prior", abstract: "Fit the lossless coder's Fashion-MNIST prior and write Sources/Coding/FittedPriorData.swift.")

    @Option(help: "Fashion-MNIST train images (IDX, gzip or raw).")
    var train: String = DatasetSpec(kind: .fashionMNIST).fashionFiles.train
    @Option(name: .shortAndLong, help: "Output Swift file.") var output: String = "Sources/Coding/FittedPriorData.swift"


    func run() throws {
        try Data(try PriorFit.source(trainFile: train).utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
        print("wrote \(output)")
    }
}
