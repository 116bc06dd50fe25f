import MetricCatalogue
import Foundation
import Datasets

/// One image tokenizer: images [B, C, H, W] → tokens [B, L, S] → images (ARCHITECTURE.md, "Protocols").
public protocol Tokenizer: AnyObject {
    /// Registry key ("raw-patch", "vq-vae", ...).
    var kind: String { get }
    /// L: tokens per image.
    var tokensPerImage: Int { get }
    /// log2 V, a Double: raw 4×4×3 patches have V = 2^384.
    var log2VocabularySize: Double { get }
    /// images: [B, C, H, W] → tokens: [B, L]
    func encode(_ images: ImageBatch) -> Tokens
    /// tokens: [B, L] → images: [B, C, H, W], 8-bit (rounded and clamped)
    func decode(_ tokens: Tokens) -> ImageBatch
}

/// A tokenizer with parameters to learn. The training loop (Training/) drives `trainStep`; the
/// tokenizer holds its parameters, optimizer state and quantizer buffers, and checkpoints them.
public protocol TrainableTokenizer: Tokenizer {
    /// Optimisation steps taken so far (restored by `loadCheckpoint`).
    var stepsTrained: Int { get }
    /// One optimisation step on images[indices] at this learning rate, with optional global-norm
    /// gradient clipping; returns the step's numbers (loss and its terms, batch usage and perplexity).
    /// Throws `TrainingError` when the step diverges (non-finite encoder output or loss).
    func trainStep(_ images: ImageBatch, indices: [Int], learningRate: Float, gradClip: Float?, step: Int) throws -> [MetricValue]
    /// Writes the trained state (safetensors, atomically).
    func saveCheckpoint(to path: String, metadata: [String: String]) throws
    /// Restores a state written by `saveCheckpoint`; returns the step it was taken at.
    func loadCheckpoint(from path: String) throws -> Int
}

/// A training step that cannot go on.
public struct TrainingError: Error, CustomStringConvertible {
    public let step: Int
    public let reason: String
    public init(step: Int, reason: String) { self.step = step; self.reason = reason }
    public var description: String { "training diverged at step \(step): \(reason)" }
}

/// The geometry a tokenizer is built for.
public struct ImageShape: Equatable, Sendable, CustomStringConvertible {
    public var channels: Int, height: Int, width: Int
    public init(channels: Int, height: Int, width: Int) { self.channels = channels; self.height = height; self.width = width }
    /// H·W·C raw bytes per image.
    public var bytes: Int { channels * height * width }
    public var description: String { "\(height)x\(width)x\(channels)" }
}

