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
    /// Fits the tokenizer on `dataset.train`; `log` receives per-step metrics.
    func train(on dataset: Dataset, plan: TrainingPlan, log: (StepMetrics) -> Void) throws
    /// images: [B, C, H, W] → tokens: [B, L]
    func encode(_ images: ImageBatch) -> Tokens
    /// tokens: [B, L] → images: [B, C, H, W], 8-bit (rounded and clamped)
    func decode(_ tokens: Tokens) -> ImageBatch
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
    public var steps: Int
    public var batch: Int
    public var learningRate: Double
    public var seed: UInt64
    public var evalEvery: Int
    public init(steps: Int = 1500, batch: Int = 64, learningRate: Double = 3e-4, seed: UInt64 = 0, evalEvery: Int = 250) {
        self.steps = steps; self.batch = batch; self.learningRate = learningRate; self.seed = seed; self.evalEvery = evalEvery
    }
}

/// Metrics of one training step (or one periodic evaluation), by name.
public struct StepMetrics: Sendable {
    public var step: Int
    public var values: [(key: String, value: Double)]
    public init(step: Int, values: [(key: String, value: Double)]) { self.step = step; self.values = values }
}
