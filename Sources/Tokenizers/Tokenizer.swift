import MetricCatalogue
import Foundation
import Datasets

/// One image tokenizer: images [B, C, H, W] → tokens [B, L] → images.
/// Learned tokenizers train first; raw-patch has nothing to learn.
public protocol Tokenizer: AnyObject {
    /// Registry key ("raw-patch", "vq-vae", ...).
    var kind: String { get }
    /// L: tokens per image.
    var tokensPerImage: Int { get }
    /// log2 V, a Double: raw 4×4×3 patches have V = 2^384.
    var log2VocabularySize: Double { get }
    /// Whether `train` does anything.
    var isLearned: Bool { get }
    /// Fits the tokenizer on `dataset.train`, reporting through `hooks`.
    func train(on dataset: Dataset, plan: TrainingPlan, hooks: TrainingHooks) throws
    /// images: [B, C, H, W] → tokens: [B, L]
    func encode(_ images: ImageBatch) -> Tokens
    /// tokens: [B, L] → images: [B, C, H, W], 8-bit (rounded and clamped)
    func decode(_ tokens: Tokens) -> ImageBatch
    /// Writes the trained state (safetensors, atomically); false when there is nothing to save.
    func saveCheckpoint(to path: String, metadata: [String: String]) throws -> Bool
    /// Restores a state written by `saveCheckpoint`; training then continues after its step.
    /// Returns the step the checkpoint was taken at.
    func loadCheckpoint(from path: String) throws -> Int
}

extension Tokenizer {
    public func saveCheckpoint(to path: String, metadata: [String: String]) throws -> Bool { false }
    public func loadCheckpoint(from path: String) throws -> Int { throw TrainingError(step: 0, reason: "\(kind) has no checkpoints") }
}

/// The geometry a tokenizer is built for.
public struct ImageShape: Equatable, Sendable, CustomStringConvertible {
    public var channels: Int, height: Int, width: Int
    public init(channels: Int, height: Int, width: Int) { self.channels = channels; self.height = height; self.width = width }
    /// H·W·C raw bytes per image.
    public var bytes: Int { channels * height * width }
    public var description: String { "\(height)x\(width)x\(channels)" }
}

/// How learned tokenizers train (shared by all of them).
public struct TrainingPlan: Codable, Equatable, Sendable {
    public enum Schedule: String, Codable, Sendable, CaseIterable { case constant, cosine }
    public var steps: Int
    public var batch: Int
    public var learningRate: Double
    public var schedule: Schedule
    public var warmupSteps: Int
    public var gradClip: Double?       // global-norm clipping (nil: off)
    public var seed: UInt64
    public var evalEvery: Int          // steps between evaluations (and checkpoints) on the eval split
    public var logEvery: Int           // steps between recorded training metrics
    public init(steps: Int = 1500, batch: Int = 64, learningRate: Double = 3e-4, schedule: Schedule = .cosine, warmupSteps: Int = 50,
                gradClip: Double? = 1.0, seed: UInt64 = 0, evalEvery: Int = 250, logEvery: Int = 10) {
        self.steps = steps; self.batch = batch; self.learningRate = learningRate; self.schedule = schedule
        self.warmupSteps = warmupSteps; self.gradClip = gradClip; self.seed = seed; self.evalEvery = evalEvery; self.logEvery = logEvery
    }

    /// Learning rate at step t (1-based): linear warm-up, then constant or cosine decay to 0.
    public func learningRate(at t: Int) -> Double {
        if warmupSteps > 0 && t <= warmupSteps { return learningRate * Double(t) / Double(warmupSteps) }
        switch schedule {
        case .constant: return learningRate
        case .cosine:
            let span = max(1, steps - warmupSteps)
            return learningRate * 0.5 * (1 + cos(Double.pi * Double(t - warmupSteps) / Double(span)))
        }
    }
}

/// Where training reports to (the harness decides what to do with it).
public struct TrainingHooks {
    /// Metrics to record for a step.
    public var log: (StepMetrics) -> Void
    /// Measures the tokenizer on (part of) the eval split at a step; returns metrics to record.
    public var evaluate: (Int) -> [MetricValue]
    /// A progress report (for a terminal line).
    public var progress: (TrainingProgress) -> Void
    /// Called after each evaluation step: a chance to checkpoint (errors stop training).
    public var checkpoint: (Int) throws -> Void
    public init(log: @escaping (StepMetrics) -> Void = { _ in }, evaluate: @escaping (Int) -> [MetricValue] = { _ in [] },
                progress: @escaping (TrainingProgress) -> Void = { _ in }, checkpoint: @escaping (Int) throws -> Void = { _ in }) {
        self.log = log; self.evaluate = evaluate; self.progress = progress; self.checkpoint = checkpoint
    }
}

public struct TrainingProgress: Sendable {
    public var step: Int
    public var steps: Int
    public var loss: Double
    public var latest: [MetricValue]   // last eval metrics
    public var imagesPerSecond: Double
    public var secondsLeft: Double
}

/// A training run that cannot go on.
public struct TrainingError: Error, CustomStringConvertible {
    public let step: Int
    public let reason: String
    public var description: String { "training diverged at step \(step): \(reason)" }
}

/// Metrics of one training step (or one periodic evaluation), by name.
public struct StepMetrics: Sendable {
    public var step: Int
    public var values: [MetricValue]
    public init(step: Int, values: [MetricValue]) { self.step = step; self.values = values }
}
