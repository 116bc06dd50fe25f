import Settings
import Foundation
import Kernels
import MetricCatalogue

/// How learned tokenizers train (shared by all of them).
public struct TrainingPlan: Codable, Equatable, Sendable, DeclaredOptions {
    public enum Schedule: String, Codable, Sendable, CaseIterable { case constant, cosine }
    public var steps = 0
    public var batch = 0
    public var learningRate = 0.0
    public var schedule = Schedule.constant
    public var warmupSteps = 0
    public var gradClip: Double? = nil // global-norm clipping (nil: off)
    public var seed: UInt64 = 0        // the run's seed (not a key: each run of a sweep has its own)
    public var evalEvery = 0           // steps between evaluations (and checkpoints) on the eval split
    public var logEvery = 0            // steps between recorded training metrics

    public static let unset = TrainingPlan(unset: ())
    private init(unset: Void) {}
    /// Every option at its default.
    public init() { self = Self.defaults }

    /// The `[training]` table's keys, each declared once.
    public static var options: [Option<TrainingPlan>] {
        [
            .int("steps", \.steps, default: 1500, "optimizer steps (0: no training)", check: ConfigKey.intIn(0...100_000_000)),
            .int("batch", \.batch, default: 64, "images per step", check: ConfigKey.intIn(1...65536)),
            .double("lr", \.learningRate, default: 3e-4, "peak learning rate (Adam)",
                    check: { v in (v.doubleValue.map { $0 > 0 && $0 < 10 } ?? false) ? nil : "must be in (0, 10)" }),
            Option(key: ConfigKey("schedule", .string, default: .string(Schedule.cosine.rawValue), "learning-rate schedule after the warm-up: "
                                  + Schedule.allCases.map(\.rawValue).joined(separator: " or "),
                                  check: { v in Schedule(rawValue: v.stringValue ?? "") != nil ? nil
                                      : "must be one of \(Schedule.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(v)\"" }),
                   assign: { $0.schedule = Schedule(rawValue: $1.stringValue!)! }, read: { .string($0.schedule.rawValue) }),
            .int("warmup", \.warmupSteps, default: 50, "linear warm-up steps", check: ConfigKey.intIn(0...100_000_000)),
            Option(key: ConfigKey("grad_clip", .double, default: .double(1.0), "global gradient-norm clip (0: off)",
                                  check: { v in (v.doubleValue ?? -1) >= 0 ? nil : "must be ≥ 0 (0: off)" }),
                   assign: { r, v in r.gradClip = v.doubleValue! > 0 ? v.doubleValue! : nil }, read: { .double($0.gradClip ?? 0) }),
            .int("eval_every", \.evalEvery, default: 250, "steps between evaluations and checkpoints (a multiple of log_every)", check: ConfigKey.intIn(1...100_000_000)),
            .int("log_every", \.logEvery, default: 10, "steps between recorded training metrics", check: ConfigKey.intIn(1...100_000_000)),
        ]
    }

    /// Learning rate at step t (1-based): linear warm-up, then constant or cosine decay to 0.
    public func learningRate(at t: Int) -> Double {
        scheduledLearningRate(peak: learningRate, warmup: warmupSteps, steps: steps, cosine: schedule == .cosine, at: t)
    }
}

/// The events a training loop emits; the experiment runner decides what to do with them (record,
/// evaluate, checkpoint, show progress). An error thrown by a hook stops training.
public struct TrainingHooks {
    /// Metrics to record for a step.
    public var log: (StepMetrics) throws -> Void
    /// Measures the tokenizer on (part of) the eval split at a step; returns metrics to record.
    public var evaluate: (Int) throws -> [MetricValue]
    /// A progress report (for a terminal line).
    public var progress: (TrainingProgress) -> Void
    /// Called after each evaluation step: a chance to checkpoint (errors stop training).
    public var checkpoint: (Int) throws -> Void
    public init(log: @escaping (StepMetrics) throws -> Void = { _ in }, evaluate: @escaping (Int) throws -> [MetricValue] = { _ in [] },
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
