import Settings
import Layers
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

    /// z: [D, B, h, w] → ẑ, the words and (training) the loss terms. A training pass keeps what
    /// backward and afterStep need (the straight-through estimator, the chosen codes) and may
    /// initialise itself from z on its first call; an inference pass leaves that state alone.
    func forward(_ z: Tensor, _ pass: QuantizerPass) -> Quantized
    /// dL/dẑ → dL/dz for the last training forward, adding the gradients of its loss terms and
    /// accumulating the quantizer's parameter gradients.
    func backward(_ dzq: Tensor) -> Tensor
    /// After the optimizer step: codebook EMA updates, dead-code restarts. Returns what it did, as
    /// statistics (not losses).
    func afterStep() -> [MetricValue]
    /// words: [N, S] → ẑ: [D, B, h, w]. Pure: no state of the quantizer changes.
    func dequantize(_ words: [UInt32], shape: [Int]) -> Tensor
    /// Non-parameter state to checkpoint (EMA statistics), by name.
    var buffers: [(name: String, shape: [Int], values: [Float])] { get }
    func loadBuffers(_ buffers: [String: [Float]]) throws
    /// State of the quantizer's random generator (restarts, dropout), for exact resumption.
    var randomState: UInt64 { get set }
}

/// Which pass a forward is: inference (encode), or the training step about to run (schedules such
/// as LFQ's entropy boost read it).
public enum QuantizerPass: Equatable, Sendable {
    case inference
    case training(step: Int)
    public var isTraining: Bool { self != .inference }
    public var step: Int { if case .training(let s) = self { return s }; return 0 }
}

/// What one forward computes.
public struct Quantized {
    /// ẑ: [D, B, h, w]
    public var zq: Tensor
    /// [N, S]: the token words, N = B·h·w in `Tokens` order.
    public var words: [UInt32]
    /// The quantizer's loss terms (already weighted; empty for inference). Every one is added to the
    /// training loss and checked for NaN, and each is a catalogue metric with `isLossTerm`.
    public var losses: [MetricValue]
    /// Numbers that describe the pass without being losses (entropies, active stages), logged beside them.
    public var statistics: [MetricValue]
    public init(zq: Tensor, words: [UInt32], losses: [MetricValue] = [], statistics: [MetricValue] = []) {
        self.zq = zq; self.words = words; self.losses = losses; self.statistics = statistics
    }
}

extension Quantizer {
    public var log2VocabularySize: Double { Double(wordsPerToken) * log2(Double(wordRange)) }
    public var buffers: [(name: String, shape: [Int], values: [Float])] { [] }
    public func loadBuffers(_ buffers: [String: [Float]]) throws {}
    public func afterStep() -> [MetricValue] { [] }
    public var randomState: UInt64 { get { 0 } set {} }
}

#if canImport(Glibc)
import Glibc
#endif

/// A latent tokenizer kind as its quantizer's file declares it (`static let kind`): the name, the
/// summary and label keys, the default latent size D (0: the quantizer's own dimension), and how to
/// check and build the quantizer from its declared options. The registry turns it into a tokenizer
/// kind around a backbone with one line (`.latent(NewQuantizer.kind)`), so adding a quantizer is its
/// file plus that line.
public struct QuantizerKind: Sendable {
    public let name: String
    public let summary: String
    public let labelKeys: [String]
    public let latent: Int
    public let latentDoc: String
    /// The quantizer's own keys (the backbone adds its keys).
    public let keys: [ConfigKey]
    /// The latent size D that latent_dim = 0 stands for (nil: 0 is not allowed).
    public let quantizerDim: @Sendable ([String: ConfigValue]) throws -> Int?
    /// Checks the options against the backbone's latent_dim, throwing a ConfigError that names the key.
    public let validate: @Sendable (_ latentDim: Int, [String: ConfigValue]) throws -> Void
    /// Builds the quantizer for latent size D in the model's parameter set, with the run's seed.
    public let make: @Sendable ([String: ConfigValue], _ latentDim: Int, ParameterSet, UInt64) throws -> Quantizer

    public init<Options: DeclaredOptions>(
        name: String, summary: String, labelKeys: [String], latent: Int = 64, latentDoc: String = "latent channels D", options: Options.Type,
        quantizerDim: @escaping @Sendable (Options) -> Int? = { _ in nil },
        validate: @escaping @Sendable (_ latentDim: Int, Options) throws -> Void = { _, _ in },
        make: @escaping @Sendable (Options, _ latentDim: Int, ParameterSet, UInt64) -> Quantizer
    ) {
        self.name = name; self.summary = summary; self.labelKeys = labelKeys; self.latent = latent; self.latentDoc = latentDoc
        keys = Options.keys
        self.quantizerDim = { try quantizerDim(Options(values: $0)) }
        self.validate = { d, v in try validate(d, Options(values: v)) }
        self.make = { v, d, ps, seed in make(try Options(values: v), d, ps, seed) }
    }
}
