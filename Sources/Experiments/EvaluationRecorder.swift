import Foundation
import Datasets
import Tokenizers
import Metrics
import MetricCatalogue
import Store
import Perceptual

/// The evaluator's path to the store, apart from any training (ARCHITECTURE.md, "Data flow"): given a
/// tokenizer (trained here, loaded from a checkpoint, or not learned) and a dataset, it measures
/// everything the catalogue defines for a final result (fidelity, tokens, rate, usage, and the data's
/// lossless budget, cached per eval split), saves reconstruction strips, and records the run as
/// finished in one transaction.
public struct EvaluationRecorder {
    let store: ResultStore
    let artifactDir: String?
    let say: (String) -> Void
    /// The perceptual metrics of the experiment ([evaluation] metrics; nil: none), networks loaded.
    public var perceptual: PerceptualSuite?
    /// Where the eval splits' originals' Inception features are cached (cacheDir/features); nil: not cached.
    public var featureCache: String?

    public init(store: ResultStore, artifactDir: String?, say: @escaping (String) -> Void, perceptual: PerceptualSuite? = nil, featureCache: String? = nil) {
        self.store = store; self.artifactDir = artifactDir; self.say = say; self.perceptual = perceptual; self.featureCache = featureCache
    }

    /// The cache file of a split's originals' Inception features: keyed like the data rate, plus the network.
    /// `listed`: the images in listing order (`tokbench eval`), not a dataset's seeded order. The data rate
    /// does not depend on the order, but the features' rows do (KID's subsets, an exact chunk's rows), so a
    /// folder scored by `tokbench eval` never shares rows with the same folder as a dataset.
    func featureCachePath(_ spec: DatasetSpec, images: Int, listed: Bool = false) -> String? {
        guard let dir = featureCache, perceptual?.inception != nil else { return nil }
        let key = Self.dataRateKey(spec) + "|n=\(images)|" + WeightsCatalogue.inception.sha256 + (listed ? "|order=listed" : "")
        return (dir as NSString).appendingPathComponent("inception-" + sha256Hex(Array(key.utf8)).prefix(32) + ".f32")
    }

    /// The split's cached originals' features, when present and complete.
    func cachedFeatures(_ spec: DatasetSpec, images: Int, listed: Bool = false) -> FeatureFile? {
        guard let p = featureCachePath(spec, images: images, listed: listed), let net = perceptual?.inception,
              let f = try? FeatureFile(reading: p, dimension: net.width), f.rows == images else { return nil }
        say("  the eval split's Inception features of the originals: cached (\(p))")
        return f
    }

    /// Keeps the originals' features an evaluation computed, for the split's next runs (written whole, then renamed).
    func cacheFeatures(_ evaluator: StreamingEvaluator, spec: DatasetSpec, images: Int, listed: Bool = false) {
        guard let p = featureCachePath(spec, images: images, listed: listed), let spool = evaluator.perceptual?.originalsSpool, spool.rows == images else { return }
        let fm = FileManager.default
        try? fm.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let tmp = p + ".partial-\(getpid())"
        try? fm.removeItem(atPath: tmp)
        if (try? fm.copyItem(atPath: spool.path, toPath: tmp)) != nil {
            if rename(tmp, p) != 0 { try? fm.removeItem(atPath: tmp) }
        }
    }

    /// Evaluates on `data.eval`, records the results (with `extra` ones such as training time) and
    /// artifacts, and marks the run finished.
    @discardableResult
    public func record(_ tokenizer: Tokenizer, on data: Dataset, runID: Int64, extra: [MetricValue] = [],
                       artifacts: [(kind: String, path: String)] = []) throws -> EvaluationReport {
        try record(runID: runID, spec: data.spec, originals: data.eval, extra: extra, artifacts: artifacts) { observe in
            try Evaluator.evaluate(tokenizer, on: data.eval, perceptual: perceptual, cachedOriginals: cachedFeatures(data.spec, images: data.eval.count),
                                   finished: { cacheFeatures($0, spec: data.spec, images: data.eval.count) }, observe: observe)
        }
    }

    /// The same for outputs produced elsewhere and already in memory: `outputs` are the tokens and
    /// reconstructions of `data.eval`, in its order.
    @discardableResult
    public func record(_ outputs: TokenizerOutputs, of data: Dataset, runID: Int64, extra: [MetricValue] = [],
                       artifacts: [(kind: String, path: String)] = []) throws -> EvaluationReport {
        let eval = try data.evalBatch()
        return try record(runID: runID, spec: data.spec, originals: eval, extra: extra, artifacts: artifacts) { observe in
            try observe(EvalChunk(first: 0, originals: eval, reconstructions: outputs.reconstruction, tokens: outputs.tokens))
            return try Evaluator.measure(eval, outputs, perceptual: perceptual, cachedOriginals: cachedFeatures(data.spec, images: eval.count),
                                         finished: { cacheFeatures($0, spec: data.spec, images: eval.count) })
        }
    }

    /// The one path to a finished run. `evaluate` runs the streaming evaluator over the split (`originals`,
    /// described by `spec`) and hands every chunk to the observer it is given: the data rate (when the
    /// split's is not cached yet), the eval fingerprint (incremental SHA-256 of the pixels) and the
    /// reconstruction strips consume the same chunks, so the split is read once.
    @discardableResult
    public func record(runID: Int64, spec: DatasetSpec, originals: ImageSource, extra: [MetricValue] = [],
                       artifacts: [(kind: String, path: String)] = [], times: StageTimes = StageTimes(),
                       evaluate: ((EvalChunk) throws -> Void) throws -> EvaluationReport) throws -> EvaluationReport {
        let cached = try cachedRates(spec, channels: originals.channels)
        let rate = cached.missing.isEmpty ? nil : DataRateAccumulator(coders: cached.missing)
        var fingerprint = SHA256Hasher()
        let strips = StripAccumulator(count: min(8, originals.count))
        let report = try evaluate { chunk in
            try times.time("data rate") { try rate?.consume(chunk.originals) }
            times.time("fingerprint") { fingerprint.update(chunk.originals.pixels) }
            strips.consume(chunk)
        }
        return try finish(runID: runID, report: report, cached: cached, measured: rate?.measurements ?? [], images: originals.count,
                          bytesPerImage: originals.bytesPerImage, fingerprint: fingerprint.finishHex(), strips: strips, extra: extra, artifacts: artifacts)
    }

    /// Records a run whose evaluation is done: its values with the budget (caching newly measured data rates),
    /// the eval fingerprint, the strips, and the run finished, in that order.
    func finish(runID: Int64, report: EvaluationReport, cached: CachedRates, measured: [DataRate.Measurement], images: Int, bytesPerImage: Int,
                fingerprint: String, strips: StripAccumulator, extra: [MetricValue], artifacts: [(kind: String, path: String)]) throws -> EvaluationReport {
        let rates = try save(measured, into: cached, images: images)
        var results = report.values + extra
        results += budget(rates: rates, coders: cached.coders, bytesPerImage: bytesPerImage,
                          tokensPerImage: report.value(.tokensPerImage).map { Int($0) }, capacity: report.value(.capacityBPB))
        let stripFiles = try saveStrips(runID, strips)
        // The eval images' fingerprint: paired comparisons (`tokbench compare`) require equal ones.
        try store.recordParams(runID: runID, [(evalFingerprintParam, fingerprint)])
        try store.finishRun(runID: runID, results: results, perImage: report.perImage, artifacts: stripFiles + artifacts)
        return report
    }

    /// The key the data rate of an eval split is cached under.
    static func dataRateKey(_ s: DatasetSpec) -> String {
        "\(s.kind.rawValue)|\(s.path)|\(s.resolution)|\(s.channels)|eval=\(s.evalImages)|photos=\(s.evalPhotos)|seed=\(s.seed)|\(DataRate.version)" + (s.preprocess.map { "|pre=\($0.rawValue)" } ?? "")
    }

    struct CachedRates {
        var key: String
        var coders: [DataRate.Coder]
        var rates: [String: (bits: Int, bytes: Int)]
        var missing: [DataRate.Coder]
    }

    /// The split's cached rates and the coders still to measure (said when there are any).
    func cachedRates(_ spec: DatasetSpec, channels: Int) throws -> CachedRates {
        let key = Self.dataRateKey(spec)
        let rates = try store.dataRates(key: key)
        let coders = DataRate.coders(forDataset: spec.kind, channels: channels)
        let missing = coders.filter { rates[$0.rawValue] == nil }
        if !missing.isEmpty {
            say("  measuring the eval split's lossless rate (\(missing.map(\.rawValue).joined(separator: ", "))) once for this split")
        }
        return CachedRates(key: key, coders: coders, rates: rates, missing: missing)
    }

    /// Caches new measurements; returns every coder's rate.
    func save(_ measured: [DataRate.Measurement], into cached: CachedRates, images: Int) throws -> [String: (bits: Int, bytes: Int)] {
        var rates = cached.rates
        for m in measured {
            try store.saveDataRate(key: cached.key, coder: m.coder.rawValue, bits: m.bits, bytes: m.bytes, images: images, seconds: m.seconds,
                                   codeVersion: CodeVersion.current)
            rates[m.coder.rawValue] = (m.bits, m.bytes)
        }
        return rates
    }

    /// The budget of an in-memory split (measured now unless cached).
    func budget(_ data: Dataset, tokensPerImage L: Int?, capacity: Double?) throws -> [MetricValue] {
        let cached = try cachedRates(data.spec, channels: data.eval.channels)
        let rates = try save(try DataRate.measure(try data.evalBatch(), coders: cached.missing), into: cached, images: data.eval.count)
        return budget(rates: rates, coders: cached.coders, bytesPerImage: data.eval.bytesPerImage, tokensPerImage: L, capacity: capacity)
    }

    /// Where a run stands against the data's lossless rate (measured once per split, cached in the store).
    func budget(rates: [String: (bits: Int, bytes: Int)], coders: [DataRate.Coder], bytesPerImage: Int, tokensPerImage L: Int?,
                capacity: Double?) -> [MetricValue] {
        var out: [MetricValue] = coders.map { c in (Metric.dataBPB(coder: c.rawValue), Double(rates[c.rawValue]!.bits) / Double(rates[c.rawValue]!.bytes)) }
        let best = out.map(\.value).min()!
        out.append((.dataBPB, best))
        if let capacity { out.append((.deficitBPB, best - capacity)) }
        if let L { out.append((.minLog2VLossless, InformationBudget.minLog2VForLossless(bytesPerImage: bytesPerImage, bitsPerByte: best, tokens: L))) }
        return out
    }

    /// The first eval images and their reconstructions as two PNG strips (for report grids).
    func saveStrips(_ runID: Int64, _ strips: StripAccumulator) throws -> [(kind: String, path: String)] {
        guard let dir = artifactDir, let originals = strips.originals, let recon = strips.reconstructions else { return [] }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var out: [(kind: String, path: String)] = []
        for (kind, batch) in [("originals", originals), ("recon", recon)] {
            let path = (dir as NSString).appendingPathComponent("run-\(runID)-\(kind).png")
            try Data(encodePNG(imageGrid(batch, columns: batch.count))).write(to: URL(fileURLWithPath: path), options: .atomic)
            out.append((kind, path))
        }
        return out
    }
}

/// The first `count` originals and reconstructions of the stream, for the strips.
final class StripAccumulator {
    let count: Int
    var originals: ImageBatch?, reconstructions: ImageBatch?
    init(count: Int) { self.count = count }
    func consume(_ chunk: EvalChunk) {
        let have = originals?.count ?? 0
        guard have < count else { return }
        let take = 0..<min(count - have, chunk.originals.count)
        originals = ImageBatch.concatenate((originals.map { [$0] } ?? []) + [chunk.originals.slice(take)])
        reconstructions = ImageBatch.concatenate((reconstructions.map { [$0] } ?? []) + [chunk.reconstructions.slice(take)])
    }
}

/// A batch as one grid image, `columns` images a row (the strips: one row; the AR samples: 8 columns): [n, C, H, W] → [1, C, rows·H, columns·W] (empty cells black).
func imageGrid(_ b: ImageBatch, columns: Int) -> ImageBatch {
    let rows = (b.count + columns - 1) / columns
    var out = ImageBatch(count: 1, channels: b.channels, height: rows * b.height, width: columns * b.width)
    for i in 0..<b.count {
        let (r, col) = (i / columns, i % columns)
        for c in 0..<b.channels { for y in 0..<b.height { for x in 0..<b.width {
            out.pixels[(c * out.height + r * b.height + y) * out.width + col * b.width + x] = b.pixels[((i * b.channels + c) * b.height + y) * b.width + x]
        } } }
    }
    return out
}
