import Foundation
import MetricCatalogue
import Datasets
import Tokenizers

/// One chunk of an evaluation: consecutive eval images (in eval order), what the tokenizer made of
/// them, and where they start in the split. Chunks always hold whole images.
///   originals, reconstructions: [B, C, H, W];  tokens: [B, L, S] (nil when only reconstructions are known)
public struct EvalChunk {
    public var first: Int                 // index of the chunk's first image in the split
    public var originals: ImageBatch
    public var reconstructions: ImageBatch
    public var tokens: Tokens?
    public init(first: Int, originals: ImageBatch, reconstructions: ImageBatch, tokens: Tokens?) {
        precondition(originals.count == reconstructions.count && originals.bytesPerImage == reconstructions.bytesPerImage,
                     "a chunk's originals and reconstructions must match")
        precondition(tokens.map { $0.count == originals.count } ?? true, "a chunk's tokens must match its images")
        self.first = first; self.originals = originals; self.reconstructions = reconstructions; self.tokens = tokens
    }
}

/// What an accumulator finishes into: catalogue values and per-image values ([N] each, eval order).
public struct Accumulated {
    public var values: [MetricValue] = []
    public var perImage: [(metric: Metric, values: [Double])] = []
    public init(values: [MetricValue] = [], perImage: [(metric: Metric, values: [Double])] = []) {
        self.values = values; self.perImage = perImage
    }
}

/// A final metric of the streaming evaluator (ARCHITECTURE.md, "Evaluation"): it consumes the eval split
/// chunk by chunk, in order, and finishes into its values. Its state must not grow with the pixels it has
/// seen (per-image scalars and counts over the vocabulary are fine). Adding a metric is one accumulator
/// plus its catalogue entry, and a test that the accumulated figures equal the whole-split reference.
public protocol MetricAccumulator: AnyObject {
    func consume(_ chunk: EvalChunk) throws
    func finish() throws -> Accumulated
}

/// Wall time per evaluation stage (reading, each accumulator, the data rate, …), for `tokbench eval`'s
/// closing line and the evaluation benchmark: images per second of each stage.
public final class StageTimes: @unchecked Sendable {
    public private(set) var stages: [(name: String, seconds: Double)] = []
    let lock = NSLock()
    public init() {}

    public func time<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { add(name, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
        return try body()
    }

    public func add(_ name: String, _ seconds: Double) {
        lock.lock(); defer { lock.unlock() }
        if let i = stages.firstIndex(where: { $0.name == name }) { stages[i].seconds += seconds } else { stages.append((name, seconds)) }
    }

    /// "read 12.1 s (1653 img/s), fidelity 0.8 s (…), …" for `images` images.
    public func summary(images: Int) -> String {
        stages.map { s in
            "\(s.name) \(String(format: "%.1f", s.seconds)) s (\(s.seconds > 0 ? String(format: "%.0f", Double(images) / s.seconds) : "–") img/s)"
        }.joined(separator: ", ")
    }
}
