// AR probing: train an ARPrior on a tokenizer's train-split token words, measure what it pays on the eval
// split's, optionally draw samples. Plain numbers in, plain numbers out: the experiment layer encodes the
// splits, names the numbers from the catalogue and records them (ARCHITECTURE.md, "AR probing").
// Shapes: N sequences of T = L·S words each, every word in 0..<V.
import Foundation
import Kernels
import Settings

/// The `[ar_probe]` table of an experiment file (and `tokbench probe --set`): the prior's size, its
/// schedule, its seeds and the samples it draws.
public struct ARProbeConfig: Codable, Equatable, Sendable, DeclaredOptions {
    public var features = 0, layers = 0, heads = 0, mlpRatio = 0
    public var steps = 0, batch = 0, warmup = 0, evalEvery = 0, trainImages = 0
    public var learningRate = 0.0
    public var seeds: [Int] = []
    public var samples = 0, topK = 0

    public static let unset = ARProbeConfig(unset: ())
    private init(unset: Void) {}
    public init() { self = Self.defaults }

    public static var options: [Option<ARProbeConfig>] {
        [
            .int("features", \.features, default: 128, "C: the prior's width", check: ConfigKey.intIn(4...4096)),
            .int("layers", \.layers, default: 2, "causal transformer blocks", check: ConfigKey.intIn(1...64)),
            .int("heads", \.heads, default: 4, "attention heads (must divide features)", check: ConfigKey.intIn(1...64)),
            .int("mlp_ratio", \.mlpRatio, default: 4, "MLP width / features", check: ConfigKey.intIn(1...16)),
            .int("steps", \.steps, default: 1000, "Adam steps on the train split's token sequences", check: ConfigKey.intIn(1...10_000_000)),
            .int("batch", \.batch, default: 64, "sequences (images) per step, drawn uniformly with replacement", check: ConfigKey.intIn(1...65536)),
            .double("lr", \.learningRate, default: 1e-3, "peak learning rate (Adam, no weight decay): linear warm-up, then cosine to 0",
                    check: { v in (v.doubleValue.map { $0 > 0 && $0 < 10 } ?? false) ? nil : "must be in (0, 10)" }),
            .int("warmup", \.warmup, default: 50, "linear warm-up steps", check: ConfigKey.intIn(0...10_000_000)),
            .int("eval_every", \.evalEvery, default: 250, "steps between measurements on the eval split's tokens (the curve)", check: ConfigKey.intIn(1...10_000_000)),
            .int("train_images", \.trainImages, default: 0, "cap on the train images encoded for the prior (0: the whole train split)", check: ConfigKey.intIn(0...100_000_000)),
            .ints("seeds", \.seeds, default: [0], "one probe per seed (the prior's initialisation and batches)",
                  check: { v in (v.intsValue.map { !$0.isEmpty && $0.count <= 100 && $0.allSatisfy { $0 >= 0 } } ?? false) ? nil : "must be a list of 1 to 100 seeds ≥ 0" }),
            .int("samples", \.samples, default: 0, "sequences drawn after training (temperature 1), decoded and scored (gFID when the Inception weights are present)",
                 check: { v in (v.intValue.map { $0 == 0 || (2...1_000_000).contains($0) } ?? false) ? nil : "must be 0 (none) or 2…1000000" }),
            .int("top_k", \.topK, default: 0, "sampling keeps the k most likely values of each word (0: all)", check: ConfigKey.intIn(0...1_000_000)),
        ]
    }

    /// Checks across keys; nil when fine, else (key, message).
    public var problem: (key: String, message: String)? {
        if features % heads != 0 { return ("heads", "must divide features (\(features)), got \(heads)") }
        return nil
    }

    /// Learning rate at step t (1-based): linear warm-up, then cosine decay to 0.
    public func learningRate(at t: Int) -> Double {
        scheduledLearningRate(peak: learningRate, warmup: warmup, steps: steps, cosine: true, at: t)
    }

    public var json: String {
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        return String(decoding: (try? enc.encode(self)) ?? Data(), as: UTF8.self)
    }
}

/// N token sequences of T words, each word in 0..<V, row-major [N, T].
public struct WordSequences: Sendable {
    public var count: Int, length: Int, vocabulary: Int
    public var words: [UInt32]
    public init(count: Int, length: Int, vocabulary: Int, words: [UInt32]) {
        precondition(words.count == count * length, "words do not match [N, T]")
        self.count = count; self.length = length; self.vocabulary = vocabulary; self.words = words
    }
    /// Sequences `rows` as Ints [rows.count, T].
    func batch(_ rows: [Int]) -> [Int] {
        var out = [Int](); out.reserveCapacity(rows.count * length)
        for r in rows { for t in 0..<length { out.append(Int(words[r * length + t])) } }
        return out
    }
}

/// What one probe measured: bits per word on the eval sequences at the end, per-sequence bits, the curve.
public struct ARProbeOutcome: Sendable {
    public var evalBitsPerWord: Double
    /// Bits of each eval sequence (T words) under the final prior.
    public var evalBitsPerSequence: [Double]
    /// (step, train bits per word: mean over the steps since the last point, eval bits per word).
    public var curve: [(step: Int, trainBits: Double, evalBits: Double)]
    public var trainSeconds: Double
    public var parameters: Int
}

public enum ARProbe {
    /// Mean bits per word of `data` under `prior` (no gradient), with each sequence's bits.
    public static func bits(_ prior: ARPrior, on data: WordSequences, batch: Int = 64) -> (perWord: Double, perSequence: [Double]) {
        var per: [Double] = []; per.reserveCapacity(data.count)
        var start = 0
        while start < data.count {
            let rows = Array(start..<min(data.count, start + batch))
            var s: [Double] = []
            _ = prior.nats(data.batch(rows), batch: rows.count, perSequence: &s)
            per += s.map { $0 / log(2.0) }
            start += batch
        }
        return (per.reduce(0, +) / Double(max(1, data.count * data.length)), per)
    }

    /// Trains a prior of `config`'s size at `seed` on `train`, measuring `eval` every `evalEvery` steps
    /// and at the end. `progress(step, trainBits)` is called at each measurement.
    public static func train(_ config: ARProbeConfig, seed: UInt64, train: WordSequences, eval: WordSequences,
                             progress: (Int, Double, Double) -> Void = { _, _, _ in }) -> (ARPrior, ARProbeOutcome) {
        precondition(train.length == eval.length && train.vocabulary == eval.vocabulary && train.count > 0)
        let prior = ARPrior(ARPriorConfig(vocabulary: train.vocabulary, length: train.length, features: config.features, layers: config.layers,
                                          heads: config.heads, mlpRatio: config.mlpRatio), seed: seed, learningRate: Float(config.learningRate))
        var rng = SplitMix64(seed: seed ^ 0x9E37_79B9_7F4A_7C15)
        var curve: [(step: Int, trainBits: Double, evalBits: Double)] = []
        var window = 0.0, windowSteps = 0
        let start = Date()
        for step in 1...config.steps {
            let rows = (0..<config.batch).map { _ in rng.int(below: train.count) }
            window += prior.trainStep(train.batch(rows), batch: rows.count, learningRate: Float(config.learningRate(at: step))) / log(2.0)
            windowSteps += 1
            if step % config.evalEvery == 0 || step == config.steps {
                let e = bits(prior, on: eval).perWord
                curve.append((step, window / Double(windowSteps), e))
                progress(step, window / Double(windowSteps), e)
                window = 0; windowSteps = 0
            }
        }
        let seconds = Date().timeIntervalSince(start)
        let final = bits(prior, on: eval)
        return (prior, ARProbeOutcome(evalBitsPerWord: final.perWord, evalBitsPerSequence: final.perSequence, curve: curve,
                                      trainSeconds: seconds, parameters: prior.params.count))
    }
}
