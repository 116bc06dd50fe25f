import ArgumentParser
import Foundation
import Evaluation
import Reports

struct BudgetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "budget",
        abstract: "Minimum log2 V for a lossless tokenization at several L, for an image size and a bits-per-byte figure.")

    @Option(help: "Image side in pixels (square images).") var resolution: Int = 64
    @Option(help: "Channels (1 gray, 3 RGB).") var channels: Int = 3
    @Option(help: "Bits per byte the data carries (assumed).") var bpb: Double = 3
    @Option(help: "Token counts L, comma separated.") var lengths: String = "64,256,1024,4096"

    func validate() throws {
        guard resolution > 0 else { throw ValidationError("--resolution must be positive") }
        guard [1, 3].contains(channels) else { throw ValidationError("--channels must be 1 or 3") }
        guard bpb > 0 && bpb <= 8 else { throw ValidationError("--bpb must be in (0, 8]") }
        guard parsedLengths != nil else { throw ValidationError("--lengths must be positive integers separated by commas") }
    }

    var parsedLengths: [Int]? {
        let v = lengths.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        return v.allSatisfy { ($0 ?? 0) > 0 } && !v.isEmpty ? v.map { $0! } : nil
    }

    func run() throws {
        let bytes = resolution * resolution * channels
        print(BudgetTable.render(bytesPerImage: bytes, shape: "\(resolution)x\(resolution)x\(channels)", bitsPerByte: bpb, lengths: parsedLengths!))
    }
}
