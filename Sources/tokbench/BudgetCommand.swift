import ArgumentParser
import Foundation
import Datasets
import Tools

struct BudgetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "budget",
        abstract: "Minimum log2 V for a lossless tokenization at several L: for a measured dataset, or an image size and an assumed bits per byte.",
        discussion: "tokbench budget fashion-mnist   measures the eval split's lossless bits per byte, then prints the table\ntokbench budget --resolution 64 --channels 3 --bpb 3   the seed's ImageNet-64 arithmetic")

    @Argument(help: "Dataset to measure (fashion-mnist, photos, cifar10, image-folder, imagenet64-npz); omit to use --bpb.")
    var dataset: String?
    @Option(help: "Dataset folder (for cifar10, image-folder, imagenet64-npz).") var path: String?
    @Option(help: "Eval images to measure.") var evalImages: Int = 500
    @Option(help: "Image side in pixels (square images).") var resolution: Int?
    @Option(help: "Channels (1 gray, 3 RGB).") var channels: Int?
    @Option(help: "Bits per byte the data carries (assumed, when no dataset is given).") var bpb: Double = 3
    @Option(help: "Token counts L, comma separated.") var lengths: String = "64,256,1024,4096"

    @OptionGroup var store: StoreOptions

    func validate() throws {
        if let r = resolution { guard r > 0 else { throw ValidationError("--resolution must be positive") } }
        if let c = channels { guard [1, 3].contains(c) else { throw ValidationError("--channels must be 1 or 3") } }
        guard bpb > 0 && bpb <= 8 else { throw ValidationError("--bpb must be in (0, 8]") }
        guard parsedLengths != nil else { throw ValidationError("--lengths must be positive integers separated by commas") }
        if let d = dataset, DatasetSpec.Kind(rawValue: d) == nil {
            throw ValidationError("unknown dataset \"\(d)\" (known: \(DatasetSpec.Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
    }

    var parsedLengths: [Int]? {
        let v = lengths.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        return v.allSatisfy { ($0 ?? 0) > 0 } && !v.isEmpty ? v.map { $0! } : nil
    }

    func run() throws {
        if let name = dataset, let kind = DatasetSpec.Kind(rawValue: name) {
            print(try BudgetReport.measured(DatasetSpec(kind: kind, path: path, resolution: resolution, channels: channels, evalImages: evalImages)
                                                .withCache(store.cacheDir),
                                            lengths: parsedLengths!), terminator: "")
        } else {
            print(BudgetReport.assumed(side: resolution ?? 64, channels: channels ?? 3, bitsPerByte: bpb, lengths: parsedLengths!), terminator: "")
        }
    }
}
