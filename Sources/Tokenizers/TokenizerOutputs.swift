import Datasets
import MetricCatalogue

/// What a tokenizer produced for a set of images: its tokens (nil when only reconstructions are
/// known, as for `tokbench eval` without --tokens), the reconstructions, log2 V, and any metrics the
/// producer measured itself (an external program's metric_<name>).
public struct TokenizerOutputs: Sendable {
    public var tokens: Tokens?
    public var reconstruction: ImageBatch     // [B, C, H, W]
    public var log2Vocab: Double?
    public var extra: [MetricValue]
    public var seconds: Double                // wall time of producing them
    public init(tokens: Tokens?, reconstruction: ImageBatch, log2Vocab: Double?, extra: [MetricValue] = [], seconds: Double = 0) {
        self.tokens = tokens; self.reconstruction = reconstruction; self.log2Vocab = log2Vocab; self.extra = extra; self.seconds = seconds
    }
}
