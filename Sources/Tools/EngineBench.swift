// Throughput of the model `tokbench run` trains: a LatentTokenizer of kind vq-vae on the reference
// backbone (h=128, r=32, D=64, n=2) on 32×32×3 images, K = 512 codes. The codebook learns by gradient
// (ema, kmeans_init and restart off) so that the model is the one bench/pytorch_peer.py builds.
// Train step = the tokenizer's trainStep (bytes → x, forward, MSE + VQ losses, backward, Adam).
// Infer = encode → tokens → decode, bytes to bytes.
import Foundation
import Datasets
import Kernels
import Layers
import Backbones
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
    /// Per-layer wall time per step (ms), when profiled: (name, forward, backward), in model order.
    public var profile: [(name: String, forward: Double, backward: Double)] = []

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

    /// Benchmarks training (`train: true`) or inference on random images: one warmed-up session, one
    /// timed block of `steps` steps.
    public static func run(train: Bool, batch: Int = 64, steps: Int = 20, warmup: Int = 3, threads: Int = 2, seed: UInt64 = 0,
                           profile: Bool = false) throws -> BenchResult {
        let session = try Session(train: train, batch: batch, warmup: warmup, threads: threads, seed: seed)
        return try session.measure(steps: steps, profile: profile)
    }

    /// The model, a batch of random images and the step counter, kept across timed blocks so that blocks
    /// can alternate with the PyTorch peer's (`bench --peer --rounds`).
    public final class Session {
        public let train: Bool
        public let batch: Int
        let threads: Int
        let model: LatentTokenizer
        let images: ImageBatch
        var step = 0
        var loss: Double?

        public init(train: Bool, batch: Int = 64, warmup: Int = 3, threads: Int = 2, seed: UInt64 = 0) throws {
            Threading.configure(threads: threads, splitGEMM: true)   // as every tokbench command runs (Tokbench.swift)
            self.train = train; self.batch = batch; self.threads = threads
            model = try EngineBench.model(seed: seed)
            var rng = SplitMix64(seed: seed &+ 1)
            var images = ImageBatch(count: batch, channels: 3, height: 32, width: 32)
            for i in 0..<images.pixels.count { images.pixels[i] = UInt8(truncatingIfNeeded: rng.next()) }
            self.images = images
            for _ in 0..<warmup { try once() }
        }

        func once() throws {
            step += 1
            if train {
                let values = try model.trainStep(images, indices: Array(0..<batch), learningRate: 3e-4, gradClip: nil, step: step)
                loss = values.first?.value
            } else {
                _ = model.decode(model.encode(images))
            }
        }

        /// One timed block of `steps` steps. With `profile`, the encoder's and decoder's children are
        /// timed one by one (LayerProfile), and the rest of the step (quantizer, loss, optimizer) is
        /// reported as "other".
        public func measure(steps: Int, profile: Bool = false) throws -> BenchResult {
            let bodies: [(String, Sequential)] = [("encoder", (model.encoder as? ConvEncoder)?.body),
                                                  ("decoder", (model.decoder as? ConvDecoder)?.body)].compactMap { n, b in b.map { (n, $0) } }
            LayerProfile.enabled = profile
            defer { LayerProfile.enabled = false }
            for (_, b) in bodies { b.resetProfile() }
            model.profileTimes = .init()
            var stepTimes = [Double](repeating: 0, count: max(steps, 1))
            let start = DispatchTime.now().uptimeNanoseconds
            for i in 0..<steps {
                let t = DispatchTime.now().uptimeNanoseconds
                try once()
                stepTimes[i] = Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let median = stepTimes.sorted()[stepTimes.count / 2]
            var rows: [(name: String, forward: Double, backward: Double)] = []
            if profile {
                let perStep = 1000 / Double(max(steps, 1))
                for (name, body) in bodies {
                    for (i, layer) in body.layers.enumerated() {
                        rows.append(("\(name).\(i) \(layerDescription(layer))", body.forwardSeconds[i] * perStep, body.backwardSeconds[i] * perStep))
                    }
                }
                let p = model.profileTimes
                rows += [("quantizer", p.quantizerForward * perStep, p.quantizerBackward * perStep),
                         ("MSE loss", p.loss * perStep, 0), ("input (bytes → [C, B, H, W])", p.input * perStep, 0),
                         ("optimizer (zero grads, Adam, after-step)", p.optimizer * perStep, 0),
                         ("batch statistics (usage, perplexity)", p.statistics * perStep, 0)]
                let timed = rows.reduce(0) { $0 + $1.forward + $1.backward }
                rows.append(("rest of the step (untimed)", seconds * perStep - timed, 0))
            }
            let (h, w) = model.latentSize
            let quantizerFLOPs = 2 * Double(batch * h * w) * 512 * Double(model.backbone.latent)
            let forward = model.encoder.forwardFLOPs + model.decoder.forwardFLOPs + quantizerFLOPs
            return BenchResult(mode: train ? "train" : "infer", batch: batch, steps: steps, seconds: seconds,
                               imagesPerSecond: Double(batch * steps) / seconds,
                               imagesPerSecondMedian: Double(batch) / median,
                               gflops: forward * (train ? 3 : 1) * Double(steps) / seconds / 1e9,
                               peakRSSBytes: peakResidentBytes(), threads: threads, finalLoss: loss, profile: rows)
        }
    }

    static func layerDescription(_ layer: Layer) -> String {
        switch layer {
        case let c as Conv2d: return "Conv2d \(c.inChannels)→\(c.outChannels) \(c.kernelH)×\(c.kernelW)/\(c.stride)"
        case let c as ConvTranspose2d: return "ConvTranspose2d \(c.inChannels)→\(c.outChannels) \(c.kernelH)×\(c.kernelW)/\(c.stride)"
        default: return String(describing: type(of: layer))
        }
    }

    /// tokbench against the peer in alternating timed blocks: round i times tokbench's block, then the
    /// peer's, so both see the same state of a shared machine; the ratio is the median of the rounds'.
    public struct Comparison: Sendable {
        public var rounds: [(tokbench: Double, peer: Double)]   // images/s of each block
        public var ratios: [Double] { rounds.map { $0.tokbench / $0.peer } }
        public var medianRatio: Double { Comparison.median(ratios) }
        public var medianTokbench: Double { Comparison.median(rounds.map(\.tokbench)) }
        public var medianPeer: Double { Comparison.median(rounds.map(\.peer)) }
        static func median(_ v: [Double]) -> Double {
            let s = v.sorted()
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
    }
}

/// The PyTorch peer of the engine benchmark (bench/pytorch_peer.py, needs `pip install torch`): one
/// process, serving timed blocks on request (`--serve`), with the same model, batch, steps and threads.
public final class PyTorchPeer {
    public struct Result: Sendable { public var line: String; public var imagesPerSecond: Double }
    let process = Process()
    let input = Pipe(), output = Pipe()
    var pending = Data()

    /// Starts the peer; it builds and warms up the model for `mode` ("train" or "infer") before its first block.
    public init(train: Bool, batch: Int, steps: Int, warmup: Int, threads: Int, script: String = "bench/pytorch_peer.py") throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", script, "--serve", train ? "train" : "infer", "--batch", String(batch), "--steps", String(steps),
                             "--warmup", String(warmup), "--threads", String(threads)]
        process.standardInput = input; process.standardOutput = output; process.standardError = output
        try process.run()
        _ = try readLine(expecting: "ready")
    }

    deinit {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    /// One timed block of the peer: its result line and images/s.
    public func measure() throws -> Result {
        input.fileHandleForWriting.write(Data("run\n".utf8))
        let line = try readLine(expecting: " batch ")
        guard let rate = PyTorchPeer.imagesPerSecond(in: line) else { throw PeerError("PyTorch peer: unreadable line: \(line)") }
        return Result(line: line, imagesPerSecond: rate)
    }

    /// The next output line containing `marker`; earlier lines (warnings) are kept for the error message.
    func readLine(expecting marker: String) throws -> String {
        var skipped: [String] = []
        while true {
            if let nl = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[pending.startIndex..<nl], as: UTF8.self)
                pending = Data(pending[(nl + 1)...])
                if line.contains(marker) { return line }
                skipped.append(line)
                continue
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty {
                throw PeerError("PyTorch peer failed (pip install torch?): " + skipped.suffix(2).joined(separator: " "))
            }
            pending.append(chunk)
        }
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

/// `tokbench bench train|infer`: one untimed block each, then `rounds` timed blocks of tokbench
/// (alternating with the peer's when `peer`), then the summary lines; with `profile`, one more block
/// with per-layer times.
public enum EngineBenchReport {
    public static func run(train: Bool, batch: Int, steps: Int, rounds: Int, warmup: Int, threads: Int,
                           profile: Bool, peer: Bool, say: (String) -> Void) throws {
        let mode = train ? "train" : "infer"
        let session = try EngineBench.Session(train: train, batch: batch, warmup: warmup, threads: threads)
        let torch = peer ? try PyTorchPeer(train: train, batch: batch, steps: steps, warmup: warmup, threads: threads) : nil
        // one untimed block each first: PyTorch's first block after its warm-up steps is still slow
        // (oneDNN primitive creation, allocator), and it would otherwise always win round 1 for tokbench
        _ = try session.measure(steps: steps)
        _ = try torch?.measure()
        var results: [BenchResult] = [], peerLines: [PyTorchPeer.Result] = []
        say(peer ? "round   tokbench images/s   pytorch images/s   ratio" : "block   tokbench images/s")
        for i in 0..<rounds {
            let r = try session.measure(steps: steps)
            results.append(r)
            if let torch {
                let p = try torch.measure()
                peerLines.append(p)
                say(String(format: "%5d %19.1f %18.1f %7.2f", i + 1, r.imagesPerSecond, p.imagesPerSecond, r.imagesPerSecond / p.imagesPerSecond))
            } else {
                say(String(format: "%5d %19.1f", i + 1, r.imagesPerSecond))
            }
        }
        // the summary: the median block of tokbench (its images/s and GFLOPS), peak RSS over all blocks
        let mid = results.sorted { $0.imagesPerSecond < $1.imagesPerSecond }[results.count / 2]
        var summary = mid
        summary.peakRSSBytes = peakResidentBytes()
        say("tokbench " + summary.description + String(format: " (median of %d blocks of %d steps)", rounds, steps))
        if profile {
            let p = try session.measure(steps: steps, profile: true)
            for row in p.profile {
                say(row.name.padding(toLength: 48, withPad: " ", startingAt: 0) + String(format: "%8.2f ms fwd %8.2f ms bwd", row.forward, row.backward))
            }
        }
        say("compute: " + ComputeEnvironment.current().summary)
        guard !peerLines.isEmpty else { return }
        let midPeer = peerLines.sorted { $0.imagesPerSecond < $1.imagesPerSecond }[peerLines.count / 2]
        say(midPeer.line + " (median block)")
        let cmp = EngineBench.Comparison(rounds: zip(results, peerLines).map { ($0.imagesPerSecond, $1.imagesPerSecond) })
        say(String(format: "ratio tokbench/pytorch (%@): %.2f (median of %d alternating rounds; range %.2f–%.2f)",
                   mode, cmp.medianRatio, rounds, cmp.ratios.min()!, cmp.ratios.max()!))
    }
}
