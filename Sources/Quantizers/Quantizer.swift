import MetricCatalogue
import Kernels

/// The bottleneck of a learned tokenizer: turns encoder vectors into discrete words and back.
/// Vectors are the columns of a channel-major latent z: [D, B, h, w], read as [D, N] with
/// N = B·h·w and column n = (b·h + y)·w + x — the token order of `Tokens`.
public protocol Quantizer: AnyObject {
    /// D: channels the encoder must produce.
    var latentDim: Int { get }
    /// S: words per token (1, or the number of residual stages).
    var wordsPerToken: Int { get }
    /// Each word lies in 0..<wordRange.
    var wordRange: Int { get }
    /// log2 V of one token.
    var log2VocabularySize: Double { get }

    /// z: [D, B, h, w] → ẑ: [D, B, h, w]. With `training`, keeps what backward needs (the
    /// straight-through estimator) and may initialise itself from z on its first call.
    func forward(_ z: Tensor, training: Bool) -> Tensor
    /// dL/dẑ → dL/dz, adding the gradients of the quantizer's own losses and accumulating its
    /// parameter gradients.
    func backward(_ dzq: Tensor) -> Tensor
    /// Words of the last forward: [N, S].
    var lastWords: [UInt32] { get }
    /// The quantizer's own losses of the last training forward, by name (already weighted).
    var lastLosses: [MetricValue] { get }
    /// After the optimizer step: codebook EMA updates, dead-code restarts.
    func afterStep()
    /// words: [N, S] → ẑ: [D, B, h, w]
    func dequantize(_ words: [UInt32], shape: [Int]) -> Tensor
    /// Non-parameter state to checkpoint (EMA statistics), by name.
    var buffers: [(name: String, shape: [Int], values: [Float])] { get }
    func loadBuffers(_ buffers: [String: [Float]]) throws
    /// State of the quantizer's random generator (restarts, dropout), for exact resumption.
    var randomState: UInt64 { get set }
    /// The training step about to run (for quantizers with schedules); set before each training forward.
    var trainingStep: Int { get set }
}

extension Quantizer {
    public var log2VocabularySize: Double { Double(wordsPerToken) * log2(Double(wordRange)) }
    public var buffers: [(name: String, shape: [Int], values: [Float])] { [] }
    public func loadBuffers(_ buffers: [String: [Float]]) throws {}
    public func afterStep() {}
    public var randomState: UInt64 { get { 0 } set {} }
    public var trainingStep: Int { get { 0 } set {} }
}

#if canImport(Glibc)
import Glibc
#endif
