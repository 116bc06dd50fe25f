import ArgumentParser
import Foundation
import Kernels
import Tools

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks: the training engine, the FID Inception and the AR prior against PyTorch, the lossless coder against PNG/WebP/JPEG XL.",
        subcommands: [BenchTrain.self, BenchInfer.self, BenchLossless.self, BenchPairs.self, BenchFID.self, BenchAR.self])
}

/// Options of the engine benchmarks (the reference backbone with a K = 512 VQ bottleneck).
struct EngineBenchOptions: ParsableArguments {
    @Option(help: "Batch size.") var batch: Int = 64
    @Option(help: "Timed steps per block.") var steps: Int = 10
    @Option(help: "Timed blocks; with --peer, tokbench's and PyTorch's blocks alternate and the ratio is the median of the rounds'.")
    var rounds: Int = 7
    @Option(help: "Warm-up steps.") var warmup: Int = 3
    @Option(help: "Threads (OpenBLAS and parallel loops).") var threads: Int = 2
    @Flag(help: "Print each encoder/decoder layer's forward and backward time per step (one extra block).") var profile = false
    @Flag(help: "Also run the PyTorch peer (bench/pytorch_peer.py, needs `pip install torch`) and print the ratio.") var peer = false

    func validate() throws {
        guard batch > 0, steps > 0, rounds > 0, warmup >= 0, threads > 0 else {
            throw ValidationError("--batch, --steps, --rounds, --threads must be positive")
        }
    }

    func run(train: Bool) throws {
        try EngineBenchReport.run(train: train, batch: batch, steps: steps, rounds: rounds, warmup: warmup, threads: threads,
                                  profile: profile, peer: peer, say: { print($0) })
    }
}

struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Training images/s of the model tokbench run trains: vq-vae on the reference backbone (32x32x3, h=128, r=32, D=64, K=512).")
    @OptionGroup var options: EngineBenchOptions
    func run() throws { try options.run(train: true) }
}

struct BenchInfer: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "infer", abstract: "Inference images/s of the same model.")
    @OptionGroup var options: EngineBenchOptions
    func run() throws { try options.run(train: false) }
}

struct BenchLossless: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lossless", abstract: "Lossless bits/byte and MB/s: tokbench's coder vs PNG, WebP, JPEG XL, optipng.")
    @Argument(help: "fashion-mnist (the first N test images), photos (eval tiles) or folder (--path: the first N files by name).") var dataset: String = "fashion-mnist"
    @Option(help: "Number of images.") var images: Int = 500
    @Option(help: "Seed of the photos split.") var seed: UInt64 = 0
    @Option(help: "With folder: the folder of same-size PNG/JPEG files.") var path: String?
    @Option(help: "External coders to run, comma separated (cjxl, cwebp, optipng; default: all installed).") var tools: String?

    @OptionGroup var store: StoreOptions

    func run() throws {
        let (batch, what) = try LosslessBench.images(dataset: dataset, count: images, seed: seed, cacheDir: store.cacheDir, folder: path)
        print("\(what): \(batch.pixels.count) bytes, each image coded as one file")
        print("coder                              bits/byte     MB/s  img/s/core   note")
        let only = tools.map { Set($0.split(separator: ",").map { String($0.trimmingCharacters(in: .whitespaces)) }) }
        for r in try LosslessBench.run(batch, tools: only, say: { print($0) }) {
            print(r.coder.padding(toLength: 33, withPad: " ", startingAt: 0)
                  + String(format: "%9.3f %8.3f %11.2f   %@", Double(r.bits) / Double(r.bytes), Double(r.bytes) / 1e6 / r.seconds,
                           r.imagesPerSecondPerCore, r.note))
        }
    }
}

struct BenchPairs: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pairs",
        abstract: "Make the evaluation benchmark's folder pair: N crops of the Debian photos, their JPEG round trips, and tokens.",
        discussion: "FOLDER/originals/*.png, FOLDER/reconstructions/*.png (same names), FOLDER/tokens.npy (int32 [N, L], V = 32768); scripts/bench-eval.sh scores them with tokbench eval.")
    @Argument(help: "Output folder.") var folder: String
    @Option(help: "Number of pairs.") var images: Int = 2000
    @Option(help: "Side of the square images.") var side: Int = 256
    @Option(help: "JPEG quality of the reconstructions.") var quality: Int = 40
    @Option(help: "Seed of the crops.") var seed: UInt64 = 0
    @Option(help: "A folder of source photos (PNG/JPEG) instead of the Debian ones.") var from: String?

    func validate() throws {
        guard images > 0, side >= 16, side % 16 == 0 else { throw ValidationError("--images must be positive and --side a multiple of 16") }
        guard (1...100).contains(quality) else { throw ValidationError("--quality must be in 1…100") }
    }

    func run() throws {
        try EvalPairs.make(count: images, side: side, quality: quality, seed: seed, folder: folder, from: from) { print($0) }
    }
}
