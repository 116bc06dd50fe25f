import Foundation
import Datasets
import Tokenizers
import Metrics
import MetricCatalogue
import Perceptual
import Probing
import Store
import Kernels

/// AR probing of a recorded run (ARCHITECTURE.md, "AR probing"): the run's tokenizer encodes the train and
/// eval splits, a causal prior per seed of the `[ar_probe]` table learns the train tokens, and what it
/// pays on the eval tokens is recorded in the probe tables, linked to the run; with `samples`, it draws
/// sequences, the tokenizer decodes them, and gFID and the samples' lossless rate are recorded too.
public struct ProbeRunner {
    let store: ResultStore
    let artifactDir: String?
    let say: (String) -> Void
    /// The Inception network for gFID (nil: no gFID), and where the eval originals' features are cached.
    var perceptual: PerceptualSuite?
    var featureCache: String?

    public init(store: ResultStore, artifactDir: String?, perceptual: PerceptualSuite?, featureCache: String?, say: @escaping (String) -> Void) {
        self.store = store; self.artifactDir = artifactDir; self.perceptual = perceptual; self.featureCache = featureCache; self.say = say
    }

    /// The Inception for gFID of the probes' samples: `existing` (an [evaluation] suite that has it), else the
    /// network loaded from `folder` when its weights are there; nil (samples without gFID, said once) when not,
    /// or when no samples are drawn.
    static func sampleScorer(samples: Int, existing: PerceptualSuite?, folder: String, say: (String) -> Void) -> PerceptualSuite? {
        guard samples > 0 else { return nil }
        if let e = existing, e.inception != nil { return e }
        if let s = try? PerceptualSuite.load([.rfid], folder: folder) { return s }
        say("AR probes draw samples without gFID: no Inception weights (\(WeightsCatalogue.inception.name) in \(folder); tokbench weights)")
        return nil
    }

    /// Train images and eval images as word sequences [N, L·S] (every word below the tokens' word range).
    static func sequences(_ tokenizer: Tokenizer, _ source: ImageSource, count: Int, chunk: Int = 500) throws -> (WordSequences, Tokens) {
        var words: [UInt32] = []
        var shape: Tokens?
        var start = 0
        while start < count {
            let t = tokenizer.encode(try source.read(start..<min(count, start + chunk)))
            if shape == nil { shape = Tokens(count: 0, gridRows: t.gridRows, gridCols: t.gridCols, wordsPerToken: t.wordsPerToken, wordRange: t.wordRange, words: []) }
            guard t.wordRange == shape!.wordRange, t.length * t.wordsPerToken == shape!.length * shape!.wordsPerToken,
                  t.words.allSatisfy({ Int($0) < t.wordRange }) else { throw ProbeError("the tokenizer's words changed shape or left 0..<\(t.wordRange) between chunks") }
            words += t.words
            start += chunk
        }
        guard let s = shape else { throw ProbeError("no images to encode") }
        let T = s.length * s.wordsPerToken
        return (WordSequences(count: count, length: T, vocabulary: s.wordRange, words: words), s)
    }

    /// The largest word range a prior's head is built for (V columns of C weights).
    static let maxVocabulary = 1 << 20
    /// The longest word sequence (T = L·S) a prior attends over.
    static let maxLength = 4096
    /// The most memory one training step's logits, softmax, gradient and attention maps may take.
    static let maxBytes = 8e9

    /// Why sequences of T words below V are past the prior's limits (nil: within them).
    static func limitViolation(T: Int, V: Int) -> String? {
        T <= maxLength && V <= maxVocabulary ? nil : "sequences of T = \(T) words below V = \(V) are past the prior's limits (T ≤ \(maxLength), V ≤ \(maxVocabulary))"
    }

    /// What the prior would hold for sequences of T words below V, checked before any split is encoded.
    static func checkLimits(T: Int, V: Int, runID: Int64, config: ARProbeConfig) throws {
        if let why = limitViolation(T: T, V: V) { throw ProbeError("run \(runID): " + why) }
        let bytes = 4.0 * (3 * Double(config.batch) * Double(T) * Double(V) + 2 * Double(config.layers) * Double(config.batch * config.heads) * Double(T * T))
        guard bytes <= Self.maxBytes else {
            throw ProbeError(String(format: "run %lld: a step of batch %d over T = %d words below V = %d needs about %.1f GB (limit %.0f GB): lower ar_probe.batch", runID, config.batch, T, V, bytes / 1e9, Self.maxBytes / 1e9))
        }
    }

    /// How many train images a probe of `config` learns from: train_images, capped by the split (0: all).
    static func trainImages(_ config: ARProbeConfig, split: Int) -> Int { config.trainImages > 0 ? min(config.trainImages, split) : split }

    /// Probes `tokenizer` (the run's, trained) once per seed of `config`; returns the probe ids. A probe that
    /// fails is recorded `failed` with its reason and the next seed goes on; the error count is returned too.
    public func probe(_ tokenizer: Tokenizer, data: Dataset, runID: Int64, config: ARProbeConfig) throws -> (ids: [Int64], failed: Int) {
        let one = tokenizer.encode(try data.eval.read(0..<1))
        try Self.checkLimits(T: one.length * one.wordsPerToken, V: one.wordRange, runID: runID, config: config)
        let encodeStart = Date()
        let trainCount = Self.trainImages(config, split: data.train.count)
        guard trainCount > 0 else { throw ProbeError("run \(runID): the train split is empty, nothing to train a prior on") }
        let (train, shape) = try Self.sequences(tokenizer, data.train, count: trainCount)
        let (eval, _) = try Self.sequences(tokenizer, data.eval, count: data.eval.count)
        let words = ProbeWords(train: train.words, trainCount: train.count, eval: eval.words, evalCount: eval.count, shape: shape,
                               encodeSeconds: Date().timeIntervalSince(encodeStart))
        return try probe(words, decode: { tokenizer.decode($0) }, data: data, runID: runID, config: config)
    }

    /// Decodes an AR probe's samples (at most 500 sequences' tokens a call) into images.
    typealias Decode = (Tokens) throws -> ImageBatch

    /// An external program's decode request for the samples (protocol 3; nil for 1 and 2: no samples).
    static func decoder(_ program: ExternalProgram, data: Dataset, seed: UInt64, say: @escaping (String) -> Void) -> Decode? {
        guard program.options.version >= 3 else { return nil }
        let decoder = ExternalProgram.ExternalDecoder(program, train: program.options.train ? data.train : nil, seed: seed,
                                                      height: data.eval.height, width: data.eval.width, channels: data.eval.channels, log: say)
        return { try decoder.decode($0) }
    }

    /// Probes word sequences already at hand (an external protocol v3 run's, or a native run's just encoded);
    /// `decode` decodes the samples: the tokenizer's, or the program's decode request (nil: no samples).
    /// `external`: the words came from a program (so no encode time is recorded).
    func probe(_ words: ProbeWords, decode: Decode?, external: Bool = false, data: Dataset, runID: Int64, config: ARProbeConfig) throws -> (ids: [Int64], failed: Int) {
        let (train, eval, shape, encodeSeconds) = (words.train, words.eval, words.shape, words.encodeSeconds)
        try Self.checkLimits(T: train.length, V: train.vocabulary, runID: runID, config: config)
        say(String(format: "  AR probe of run %lld: %d train and %d eval sequences of T = %d words below V = %d (%@)",
                   runID, train.count, eval.count, train.length, train.vocabulary,
                   external ? "tokens sent by the program" : String(format: "encoded in %.1f s", encodeSeconds)))
        if config.samples > 0 && decode == nil { say("  the probes draw no samples: nothing decodes them for run \(runID)") }
        var ids: [Int64] = [], failed = 0
        for seed in config.seeds.map(UInt64.init) {
            let id = try store.beginProbe(runID: runID, seed: seed, configJSON: config.json, codeVersion: CodeVersion.current)
            do {
                let (prior, outcome) = ARProbe.train(config, seed: seed, train: train, eval: eval) { step, trainBits, evalBits in
                    try? store.recordProbeMetrics(probeID: id, step: step, [(.arTrainBits, trainBits), (.arEvalBits, evalBits)])
                    say(String(format: "    seed %llu step %d: train %.4f, eval %.4f bits/word", seed, step, trainBits, evalBits))
                }
                let bytes = Double(data.eval.bytesPerImage)
                let perImage = outcome.evalBitsPerSequence.map { $0 / bytes }
                var results: [MetricValue] = [
                    (.arBitsPerWord, outcome.evalBitsPerWord), (.arBitsPerToken, outcome.evalBitsPerWord * Double(shape.wordsPerToken)),
                    (.arBPB, perImage.reduce(0, +) / Double(max(1, perImage.count))),
                    (.arTrainImages, Double(train.count)), (.arParameters, Double(outcome.parameters)),
                    (.arTrainSeconds, outcome.trainSeconds),
                ]
                if !external { results.append((.arEncodeSeconds, encodeSeconds)) }   // an external program's tokens were not encoded here
                if let h = Statistics.normalInterval(perImage).halfWidth { results.append((.arBPBCI95, h)) }
                var samplesPath: String? = nil
                if config.samples > 0, let decode {
                    // A decode that fails (an external program's) costs the samples' numbers, not the AR rate: the probe is
                    // recorded without them, and counted failed.
                    do {
                        let (values, path) = try samples(prior, decode: decode, shape: shape, data: data, runID: runID, seed: seed, config: config)
                        results += values; samplesPath = path
                    } catch let e as ExternalProgram.Failure {
                        say("    probe of run \(runID) (seed \(seed)): its samples were not decoded: \(e)")
                        failed += 1
                    }
                }
                try store.finishProbe(probeID: id, results: results, samplesPath: samplesPath)
                say(String(format: "    probe %lld (seed %llu): %.4f bits/word, %.4f bits/byte (%.0f s)", id, seed, outcome.evalBitsPerWord,
                           results.first { $0.metric == .arBPB }!.value, outcome.trainSeconds))
                ids.append(id)
            } catch {
                try store.failProbe(probeID: id, reason: String(describing: error))
                say("    probe \(id) (seed \(seed)) failed: \(error)")
                failed += 1
            }
        }
        return (ids, failed)
    }

    /// Draws `config.samples` sequences, decodes them, and scores them: gFID against the eval originals
    /// (when the Inception weights are loaded) and the lossless coder's bits per byte; saves an 8×8 grid.
    func samples(_ prior: ARPrior, decode: Decode, shape: Tokens, data: Dataset, runID: Int64, seed: UInt64,
                 config: ARProbeConfig) throws -> ([MetricValue], String?) {
        var images: [ImageBatch] = []
        var features = perceptual?.inception.map { FeatureMoments(dimension: $0.width) }
        var left = config.samples, round: UInt64 = 0
        while left > 0 {   // in rounds of at most 500 sequences: memory stays one round's
            let n = min(500, left)
            let words = prior.sample(count: n, topK: config.topK, seed: seed &* 0x2545_F491_4F6C_DD1D &+ round)
            let tokens = Tokens(count: n, gridRows: shape.gridRows, gridCols: shape.gridCols, wordsPerToken: shape.wordsPerToken,
                                wordRange: shape.wordRange, words: words.map(UInt32.init))
            let decoded = try decode(tokens)
            guard (decoded.count, decoded.channels, decoded.height, decoded.width) == (n, data.eval.channels, data.eval.height, data.eval.width) else {
                throw ProbeError("the decoded samples are \(decoded.count) images of \(decoded.height)×\(decoded.width)×\(decoded.channels), expected \(n) like the eval images")
            }
            if let net = perceptual?.inception { features!.add(net.features(of: decoded), rows: n) }
            if images.map(\.count).reduce(0, +) < 64 { images.append(decoded.slice(0..<min(n, 64))) }
            left -= n; round += 1
        }
        var out: [MetricValue] = []
        let first = ImageBatch.concatenate(images)
        if let rate = try DataRate.measure(first, coders: [.tokbenchCold]).first { out.append((.sampleDataBPB, rate.bitsPerByte)) }
        if let net = perceptual?.inception, let f = features {
            let reference = try originalMoments(data, net: net)
            out += [(.gfid, Frechet.distance(mean1: reference.mean, cov1: reference.covariance, mean2: f.mean, cov2: f.covariance)),
                    (.gfidImages, Double(f.count))]
        }
        var path: String? = nil
        if let dir = artifactDir {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let p = (dir as NSString).appendingPathComponent("run-\(runID)-probe-seed\(seed)-samples.png")
            try Data(encodePNG(imageGrid(first, columns: 8))).write(to: URL(fileURLWithPath: p), options: .atomic)
            path = p
        }
        return (out, path)
    }

    /// The eval originals' Inception moments: from the split's feature cache (which a run's rFID or an
    /// earlier probe left), else computed here chunk by chunk into that cache for the next probe.
    func originalMoments(_ data: Dataset, net: InceptionFeatures) throws -> FeatureMoments {
        let recorder = EvaluationRecorder(store: store, artifactDir: nil, say: say, perceptual: perceptual, featureCache: featureCache)
        if let cached = recorder.cachedFeatures(data.spec, images: data.eval.count) { return try cached.moments() }
        say("  computing the eval originals' Inception features for gFID (\(data.eval.count) images; cached for the split's next probes)")
        let target = recorder.featureCachePath(data.spec, images: data.eval.count)
        let path = (target ?? NSTemporaryDirectory() + "tokbench-gfid-\(UUID().uuidString).f32") + ".partial-\(getpid())"
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var kept = false
        defer { if !kept { try? FileManager.default.removeItem(atPath: path) } }   // never a partial spool left behind
        let spool = try FeatureFile(path: path, dimension: net.width)
        var start = 0
        while start < data.eval.count {
            try spool.append(net.features(of: try data.eval.read(start..<min(data.eval.count, start + 500))))
            start += 500
        }
        try spool.close()
        let m = try spool.moments()
        if let t = target, rename(path, t) == 0 { kept = true }
        return m
    }
}

/// A probe that cannot run, in one line.
public struct ProbeError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
