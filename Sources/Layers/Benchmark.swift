// Throughput benchmark of the reference backbone (h=128, r=32, D=64, n=2 on 32×32×3 by default)
// with a K=512 nearest-code VQ bottleneck (straight-through). Train step = forward, MSE, backward, Adam.
import Foundation
import Kernels

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
    public var finalLoss: Float?

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

/// Benchmarks training (`train: true`) or inference (encode → quantize → decode) on random images.
public func benchmarkBackbone(train: Bool, batch: Int = 64, steps: Int = 20, warmup: Int = 3,
                              config: BackboneConfig = .reference(channels: 3), height: Int = 32, width: Int = 32,
                              codebookSize: Int? = 512, threads: Int = 2, splitGEMM: Bool = false,
                              seed: UInt64 = 0) -> BenchResult {
    Threading.configure(threads: threads, splitGEMM: splitGEMM)
    let model = Autoencoder(config: config, codebookSize: codebookSize, learningRate: 3e-4, seed: seed)
    var rng = SplitMix64(seed: seed &+ 1)
    let x = Tensor(shape: [batch, config.channels, height, width])
    for i in 0..<x.count { x.data[i] = rng.uniform(-0.5, 0.5) }
    var loss: Float?
    func run() {
        if train { loss = model.trainStep(x) } else { _ = model.reconstruct(x) }
    }
    for _ in 0..<warmup { run() }
    var stepTimes = [Double](repeating: 0, count: max(steps, 1))
    let start = DispatchTime.now().uptimeNanoseconds
    for i in 0..<steps {
        let t = DispatchTime.now().uptimeNanoseconds
        run()
        stepTimes[i] = Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let median = stepTimes.sorted()[stepTimes.count / 2]
    let flopsPerStep = model.forwardFLOPs * (train ? 3 : 1)
    return BenchResult(mode: train ? "train" : "infer", batch: batch, steps: steps, seconds: seconds,
                       imagesPerSecond: Double(batch * steps) / seconds,
                       imagesPerSecondMedian: Double(batch) / median,
                       gflops: flopsPerStep * Double(steps) / seconds / 1e9,
                       peakRSSBytes: peakResidentBytes(), threads: threads, finalLoss: loss)
}
