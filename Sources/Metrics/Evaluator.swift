import MetricCatalogue
import Foundation
import Datasets
import Tokenizers
import Perceptual

/// Final numbers of one tokenizer on an eval split, by catalogue metric.
public struct EvaluationReport: Sendable {
    public var values: [MetricValue]
    /// Per-image values of `Metric.perImage` ([N] each, eval order), stored with the run.
    public var perImage: [(metric: Metric, values: [Double])] = []
    public func value(_ metric: Metric) -> Double? { values.first { $0.metric == metric }?.value }
}

/// The one evaluator: every tokenizer's outputs, native or produced elsewhere, are measured here, chunk
/// by chunk (ARCHITECTURE.md, "Protocols"). Each final metric is a `MetricAccumulator`; the evaluator
/// hands every chunk to each and joins what they finish into. Memory holds one chunk, whatever N is.
public final class StreamingEvaluator {
    public static let defaultChunk = 256
    let accumulators: [MetricAccumulator]
    /// Stage names of the accumulators, for `times`.
    let names: [String]
    public let times: StageTimes
    var images = 0
    var seconds = 0.0
    /// The perceptual accumulator, when there is one (the recorder caches its originals' features).
    public private(set) var perceptual: PerceptualAccumulator?

    /// images: N of the split; log2Vocab: log2 V of one token (nil when unknown or without tokens).
    /// `full`: also SSIM and the token-stream rate (off for the quick checks during training).
    /// spool: where the token rate keeps its per-position words (a resumable evaluation's folder); nil: a temporary one.
    /// perceptual: the rFID / KID / FID∞ / LPIPS networks the experiment asks for (nil: none); their feature
    /// spools live in spool/perceptual; `cachedOriginals`: the split's originals' Inception features from an earlier run.
    public init(images: Int, bytesPerImage: Int, log2Vocab: Double?, hasTokens: Bool, full: Bool = true, times: StageTimes = StageTimes(),
                spool: String? = nil, perceptual: PerceptualSuite? = nil, cachedOriginals: FeatureFile? = nil) throws {
        var a: [(String, MetricAccumulator)] = [("fidelity", FidelityAccumulator())]
        if hasTokens { a.append(("token statistics", TokenStatisticsAccumulator(log2Vocab: log2Vocab, bytesPerImage: bytesPerImage))) }
        if full {
            a.append(("SSIM", SSIMAccumulator()))
            if hasTokens { a.append(("token rate", try TokenRateAccumulator(images: images, bytesPerImage: bytesPerImage, directory: spool))) }
        }
        if let suite = perceptual {
            let p = try PerceptualAccumulator(suite: suite, directory: spool.map { $0 + "/perceptual" }, cachedOriginals: cachedOriginals)
            self.perceptual = p
            a.append((suite.metrics.map(\.rawValue).joined(separator: "+"), p))
        }
        accumulators = a.map(\.1); names = a.map(\.0)
        self.times = times
    }

    /// The next chunk of the split, and the tokenizer's wall time on it.
    public func consume(_ chunk: EvalChunk, seconds: Double = 0) throws {
        precondition(chunk.first == images, "chunks come in eval order")
        for (a, name) in zip(accumulators, names) { try times.time(name) { try a.consume(chunk) } }
        images += chunk.originals.count
        self.seconds += seconds
    }

    /// Images consumed so far.
    public var consumed: Int { images }

    public func save(_ w: inout StateWriter) throws {
        w.int(images); w.double(seconds)
        for a in accumulators { try a.save(&w) }
    }

    public func restore(_ r: inout StateReader) throws {
        images = try r.int(); seconds = try r.double()
        for a in accumulators { try a.restore(&r) }
    }

    public func finish(extra: [MetricValue] = []) throws -> EvaluationReport {
        var values: [MetricValue] = [], perImage: [(metric: Metric, values: [Double])] = []
        for (a, name) in zip(accumulators, names) {
            let r = try times.time(name) { try a.finish() }
            values += r.values; perImage += r.perImage
        }
        values += [(.evalImages, Double(images)), (.evalSeconds, seconds)]
        return EvaluationReport(values: values + extra, perImage: perImage)
    }
}

public enum Evaluator {
    /// encode → decode the images of `source` chunk by chunk, each chunk handed to `observe` with what the
    /// tokenizer made of it, then to the evaluator. `full`: also SSIM and the token-stream rate.
    public static func evaluate(_ tokenizer: Tokenizer, on source: ImageSource, chunk: Int = StreamingEvaluator.defaultChunk,
                                full: Bool = true, perceptual: PerceptualSuite? = nil, cachedOriginals: FeatureFile? = nil,
                                finished: (StreamingEvaluator) throws -> Void = { _ in },
                                observe: (EvalChunk) throws -> Void = { _ in }) throws -> EvaluationReport {
        let evaluator = try StreamingEvaluator(images: source.count, bytesPerImage: source.bytesPerImage,
                                               log2Vocab: tokenizer.log2VocabularySize, hasTokens: true, full: full,
                                               perceptual: perceptual, cachedOriginals: cachedOriginals)
        var b = 0
        while b < source.count {
            let originals = try source.read(b..<min(source.count, b + chunk))
            let start = Date()
            let tokens = tokenizer.encode(originals)
            let reconstructions = tokenizer.decode(tokens)
            let seconds = Date().timeIntervalSince(start)
            let c = EvalChunk(first: b, originals: originals, reconstructions: reconstructions, tokens: tokens)
            try observe(c)
            try evaluator.consume(c, seconds: seconds)
            b += originals.count
        }
        let report = try evaluator.finish()
        try finished(evaluator)
        return report
    }

    /// Every catalogue number of outputs already in memory against the originals `eval` (same count and
    /// geometry), as one chunk.
    public static func measure(_ eval: ImageBatch, _ outputs: TokenizerOutputs, full: Bool = true, perceptual: PerceptualSuite? = nil,
                               cachedOriginals: FeatureFile? = nil, finished: (StreamingEvaluator) throws -> Void = { _ in }) throws -> EvaluationReport {
        let evaluator = try StreamingEvaluator(images: eval.count, bytesPerImage: eval.bytesPerImage, log2Vocab: outputs.log2Vocab,
                                               hasTokens: outputs.tokens != nil, full: full, perceptual: perceptual, cachedOriginals: cachedOriginals)
        try evaluator.consume(EvalChunk(first: 0, originals: eval, reconstructions: outputs.reconstruction, tokens: outputs.tokens),
                              seconds: outputs.seconds)
        let report = try evaluator.finish(extra: outputs.extra)
        try finished(evaluator)
        return report
    }
}
