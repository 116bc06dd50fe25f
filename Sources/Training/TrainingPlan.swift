import Foundation
import MetricCatalogue

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

/// The events a training loop emits; the experiment runner decides what to do with them (record,
/// evaluate, checkpoint, show progress). An error thrown by a hook stops training.
public struct TrainingHooks {
    /// Metrics to record for a step.
    public var log: (StepMetrics) throws -> Void
    /// Measures the tokenizer on (part of) the eval split at a step; returns metrics to record.
    public var evaluate: (Int) -> [MetricValue]
    /// A progress report (for a terminal line).
    public var progress: (TrainingProgress) -> Void
    /// Called after each evaluation step: a chance to checkpoint (errors stop training).
    public var checkpoint: (Int) throws -> Void
    public init(log: @escaping (StepMetrics) throws -> Void = { _ in }, evaluate: @escaping (Int) -> [MetricValue] = { _ in [] },
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

/// Metrics of one training step (or one periodic evaluation), by name.
public struct StepMetrics: Sendable {
    public var step: Int
    public var values: [MetricValue]
    public init(step: Int, values: [MetricValue]) { self.step = step; self.values = values }
}
