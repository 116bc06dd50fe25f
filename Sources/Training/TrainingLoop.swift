// The training loop, apart from the tokenizers and from evaluation (ARCHITECTURE.md, "Protocols", `Trainer`):
// it draws each step's batch (a pure function of the step), sets the scheduled learning rate, calls
// the tokenizer's `trainStep`, averages the step numbers over `logEvery` windows and emits events:
// log, evaluate (every `evalEvery` steps and at the end), progress, checkpoint (at evaluation steps).
import Foundation
import Datasets
import MetricCatalogue
import Tokenizers

/// Something that trains a tokenizer on a dataset under a plan, reporting through hooks.
public protocol Trainer {
    func train(_ tokenizer: TrainableTokenizer, on train: any ImageSource, plan: TrainingPlan, hooks: TrainingHooks) throws
}

/// The one loop every learned tokenizer trains with. Resumes after `tokenizer.stepsTrained`.
public struct TrainingLoop: Trainer {
    public init() {}

    /// Each step's batch is read from the source by index (a split read through a decode cache need not be in memory).
    public func train(_ tokenizer: TrainableTokenizer, on train: any ImageSource, plan: TrainingPlan, hooks: TrainingHooks) throws {
        let B = plan.batch
        guard train.count > 0 else { throw DatasetError("<train split>", "is empty: there is nothing to train on") }
        let schedule = BatchSchedule(count: train.count, batch: B, seed: plan.seed)
        let start = Date()
        var window: [Metric: Double] = [:], windowSteps = 0
        var latest: [MetricValue] = []
        let first = tokenizer.stepsTrained + 1
        for step in first...max(plan.steps, first) where step <= plan.steps {
            let lr = Float(plan.learningRate(at: step))
            let batch = try train.gather(schedule.indices(step: step))   // [B, C, H, W]
            let values = try tokenizer.trainStep(batch, indices: Array(0..<batch.count), learningRate: lr,
                                                 gradClip: plan.gradClip.map { Float($0) }, step: step)
            // Window averages of the per-step numbers, recorded every logEvery steps.
            for (k, v) in values { window[k, default: 0] += v }
            windowSteps += 1
            if step % plan.logEvery == 0 || step == plan.steps {
                var logged: [MetricValue] = window.keys.sorted { $0.key < $1.key }.map { (metric: $0, value: window[$0]! / Double(windowSteps)) }
                logged.append((.learningRate, Double(lr)))
                if step % plan.evalEvery == 0 || step == plan.steps {
                    latest = try hooks.evaluate(step)
                    logged += latest
                }
                try hooks.log(StepMetrics(step: step, values: logged))
                let elapsed = Date().timeIntervalSince(start)
                hooks.progress(TrainingProgress(step: step, steps: plan.steps, loss: window[.loss]! / Double(windowSteps), latest: latest,
                                                imagesPerSecond: Double((step - first + 1) * B) / elapsed,
                                                secondsLeft: elapsed / Double(step - first + 1) * Double(plan.steps - step)))
                window = [:]; windowSteps = 0
                if step % plan.evalEvery == 0 && step < plan.steps { try hooks.checkpoint(step) }
            }
        }
    }
}
