// Throughput of the model `tokbench run` trains: a LatentTokenizer of kind vq-vae on the reference
// backbone (h=128, r=32, D=64, n=2) on 32×32×3 images, K = 512 codes. The codebook learns by gradient
// (ema, kmeans_init and restart off) so that the model is the one bench/pytorch_peer.py builds.
// Train step = the tokenizer's trainStep (bytes → x, forward, MSE + VQ losses, backward, Adam).
// Infer = encode → tokens → decode, bytes to bytes.
import Foundation
import Datasets
import Kernels
import Settings
import Tokenizers

public struct BenchResult: Sendable, CustomStringConvertible {
    public var mode: String             // "train" or "infer"
    public var batch: Int
    public var steps: Int
    public var seconds: Double          // timed steps only (after warm-up)
    public var imagesPerSecond: Double
    /// batch / median step time: robust to bursts of load from other processes on a shared machine.
    public var imagesPerSecondMedian: Double
    /// Model FLOPs per second: conv/GEMM multiply-adds ×2, train counted as 3× forward (forward + dW + dX).
    public var gflops: Double
    public var peakRSSBytes: Int        // process VmHWM
    public var threads: Int
    public var finalLoss: Double?

    public var description: String {
        let loss = finalLoss.map { String(format: ", loss %.5f", $0) } ?? ""
        return String(format: "%@ batch %d: %.1f images/s (median step: %.1f), %.2f ms/step, %.1f GFLOPS, peak RSS %.0f MiB, %d threads%@",
                      mode, batch, imagesPerSecond, imagesPerSecondMedian, 1000 * seconds / Double(max(steps, 1)), gflops,
                      Double(peakRSSBytes) / 1_048_576, threads, loss)
    }
}

/// Peak resident set size of this process in bytes (VmHWM from /proc/self/status; 0 if unavailable).
public func peakResidentBytes() -> Int {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let parts = line.split(separator: " ", omittingEmptySubsequences: true)
        if parts.count >= 2, let kb = Int(parts[1]) { return kb * 1024 }
    }
    return 0
}

public enum EngineBench {
    /// The benchmark model: what `kind = "vq-vae"` with these settings trains.
    public static func model(channels: Int = 3, size: Int = 32, codebookSize: Int = 512, seed: UInt64 = 0) throws -> LatentTokenizer {
        let config = TokenizerConfig(kind: "vq-vae", values: ["codebook_size": .int(codebookSize), "ema": .bool(false),
                                                              "kmeans_init": .bool(false), "restart": .bool(false)])
        return try TokenizerRegistry.make(config, shape: ImageShape(channels: channels, height: size, width: size), seed: seed) as! LatentTokenizer
    }

    /// Benchmarks training (`train: true`) or inference on random images.
    public static func run(train: Bool, batch: Int = 64, steps: Int = 20, warmup: Int = 3, threads: Int = 2, seed: UInt64 = 0) throws -> BenchResult {
        Threading.configure(threads: threads, splitGEMM: true)   // as every tokbench command runs (Tokbench.swift)
        let model = try model(seed: seed)
        var rng = SplitMix64(seed: seed &+ 1)
        var images = ImageBatch(count: batch, channels: 3, height: 32, width: 32)
        for i in 0..<images.pixels.count { images.pixels[i] = UInt8(truncatingIfNeeded: rng.next()) }
        let indices = Array(0..<batch)
        var loss: Double?
        var step = 0
        func once() throws {
            step += 1
            if train {
                let values = try model.trainStep(images, indices: indices, learningRate: 3e-4, gradClip: nil, step: step)
                loss = values.first?.value
            } else {
                _ = model.decode(model.encode(images))
            }
        }
        for _ in 0..<warmup { try once() }
        var stepTimes = [Double](repeating: 0, count: max(steps, 1))
        let start = DispatchTime.now().uptimeNanoseconds
        for i in 0..<steps {
            let t = DispatchTime.now().uptimeNanoseconds
            try once()
            stepTimes[i] = Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let median = stepTimes.sorted()[stepTimes.count / 2]
        let (h, w) = model.latentSize
        let quantizerFLOPs = 2 * Double(batch * h * w) * 512 * Double(model.backbone.latent)
        let forward = model.encoder.forwardFLOPs + model.decoder.forwardFLOPs + quantizerFLOPs
        return BenchResult(mode: train ? "train" : "infer", batch: batch, steps: steps, seconds: seconds,
                           imagesPerSecond: Double(batch * steps) / seconds,
                           imagesPerSecondMedian: Double(batch) / median,
                           gflops: forward * (train ? 3 : 1) * Double(steps) / seconds / 1e9,
                           peakRSSBytes: peakResidentBytes(), threads: threads, finalLoss: loss)
    }
}

/// The PyTorch peer of the engine benchmark (bench/pytorch_peer.py, needs `pip install torch`), run in
/// the same process tree right after tokbench's own measurement, with the same batch, steps and threads.
public enum PyTorchPeer {
    public struct Result: Sendable { public var line: String; public var imagesPerSecond: Double }

    /// Runs the peer script and returns its line for `mode` ("train" or "infer").
    public static func run(train: Bool, batch: Int, steps: Int, warmup: Int, threads: Int, script: String = "bench/pytorch_peer.py") throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script, "--batch", String(batch), "--steps", String(steps), "--warmup", String(warmup), "--threads", String(threads)]
        let pipe = Pipe(); p.standardOutput = pipe; p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let out = String(decoding: data, as: UTF8.self)
        let mode = train ? "train" : "infer"
        guard p.terminationStatus == 0,
              let line = out.split(separator: "\n").first(where: { $0.contains(" \(mode) batch") }),
              let rate = imagesPerSecond(in: String(line)) else {
            throw PeerError("PyTorch peer failed (pip install torch?): " + out.split(separator: "\n").suffix(2).joined(separator: " "))
        }
        return Result(line: String(line), imagesPerSecond: rate)
    }

    /// "...: 123.4 images/s ..." → 123.4
    public static func imagesPerSecond(in line: String) -> Double? {
        guard let r = line.range(of: " images/s") else { return nil }
        return Double(line[..<r.lowerBound].split(separator: " ").last ?? "")
    }

    public struct PeerError: Error, CustomStringConvertible {
        public let description: String
        init(_ d: String) { description = d }
    }
}
