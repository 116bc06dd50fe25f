// `tokbench eval`: the evaluator on outputs made elsewhere, and on saved checkpoints.
//  - files: originals and reconstructions as two folders of PNG/JPEG matched by file name (the VTBench
//    layout) or as two uint8 .npy arrays [N, H, W, C], optionally with the tokens (.npy, integers
//    [N, L] or [N, L, W]) and V; recorded as a run of a named experiment.
//  - a run: its tokenizer rebuilt from the stored config and checkpoint, evaluated on its own eval
//    split (reproducing the stored numbers) or on another dataset (train on A, test on B); recorded
//    as a new run linked to it (param evaluates_run).
import Foundation
import Datasets
import Kernels
import Metrics
import MetricCatalogue
import Settings
import Store
import Tokenizers

public struct ExternalEvaluation {
    let store: ResultStore
    public var recorder: EvaluationRecorder
    let cacheDir: String
    let say: (String) -> Void

    public init(store: ResultStore, artifactDir: String?, cacheDir: String, say: @escaping (String) -> Void) {
        self.store = store; self.cacheDir = cacheDir; self.say = say
        recorder = EvaluationRecorder(store: store, artifactDir: artifactDir, say: say, featureCache: (cacheDir as NSString).appendingPathComponent("features"))
    }

    // MARK: files

    /// The images of a folder of PNG/JPEG files (sorted by name) or of a uint8 .npy [N, H, W, C] (memory-mapped),
    /// as a source read chunk by chunk; with their names. shape: the size every image must have (the
    /// originals' when reading reconstructions), checked from each file's header before it is decoded;
    /// otherwise the first file's.
    static func source(_ path: String, shape: (channels: Int, height: Int, width: Int)? = nil) throws -> (ImageSource, [String]) {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw DatasetError(path, whyMissing(path)) }
        if !isDir.boolValue {
            let b = try NPYImageSource(path: path)
            return (b, (0..<b.count).map { "image \($0)" })
        }
        let names = try listImageFileNames(path, extensions: pngAndJPEGExtensions)
        guard !names.isEmpty else { throw DatasetError(path, "no PNG or JPEG files") }
        let files = names.map { (path as NSString).appendingPathComponent($0) }
        return (try ImageFileSource(files: files, shape: shape), names)
    }

    /// Scores reconstructions against originals (matched by name) and records them as a run of
    /// `experiment` labelled `label`, streaming both sets chunk by chunk. Nothing is recorded when the
    /// names, shapes or tokens do not match; a file that fails to decode half-way fails the run.
    public func evaluateFiles(originals: String, reconstructions: String, tokens tokensPath: String?, vocabSize: Int?,
                              experiment: String, label: String) throws -> Int64 {
        try store.recordDefinitions(Metric.all)
        let (orig, names) = try Self.source(originals)
        try recorder.perceptual?.check(height: orig.height, width: orig.width)
        let (recon, reconNames) = try Self.source(reconstructions, shape: (orig.channels, orig.height, orig.width))
        guard names == reconNames else {
            let missing = names.first { !reconNames.contains($0) } ?? reconNames.first { !names.contains($0) } ?? "?"
            throw DatasetError(reconstructions, "does not hold the same images as \(originals): \(missing) is in one and not the other"
                               + " (\(names.count) vs \(reconNames.count) images)")
        }
        guard (recon.width, recon.height, recon.channels) == (orig.width, orig.height, orig.channels) else {
            throw DatasetError(reconstructions, "images are \(recon.width)x\(recon.height)x\(recon.channels), the originals \(orig.width)x\(orig.height)x\(orig.channels)")
        }
        for source in [orig, recon] { try (source as? ImageFileSource)?.checkHeaders() }
        var tokens: Tokens? = nil, log2V: Double? = nil
        if let tp = tokensPath {
            guard let V = vocabSize, V >= 2 else { throw DatasetError(tp, "--tokens needs --vocab-size V (≥ 2)") }
            let t = try readNPYFile(path: tp)
            guard let tv = t.integers, t.shape.count == 2 || t.shape.count == 3, t.shape[0] == orig.count else {
                throw DatasetError(tp, "expected integer tokens [\(orig.count), L] or [\(orig.count), L, W], got \(t.dtype) \(t.shape)")
            }
            if let bad = tv.firstIndex(where: { $0 < 0 || $0 >= V }) { throw DatasetError(tp, "token \(tv[bad]) at flat index \(bad) is outside 0..<\(V)") }
            tokens = Tokens(values: tv, shape: t.shape, wordRange: V)
            log2V = Double(tokens!.wordsPerToken) * log2(Double(V))
        }
        let spec = DatasetSpec(kind: .imageFolder, path: (originals as NSString).standardizingPath, resolution: orig.height, channels: orig.channels,
                               evalImages: orig.count)
        let splitDescription = "eval: the \(orig.count) images of \(originals), matched by name with \(reconstructions)"
        let config: [String: String] = ["originals": originals, "reconstructions": reconstructions, "tokens": tokensPath ?? "",
                                        "vocab_size": vocabSize.map(String.init) ?? ""]
        let configJSON = String(decoding: try JSONEncoder.sorted.encode(config), as: UTF8.self)
        let experimentID = try store.experimentID(named: experiment, file: "tokbench eval", fileSHA256: sha256Hex(Array(configJSON.utf8)))
        let runID = try store.beginRun(NewRun(experimentID: experimentID, runKey: "eval " + label, tokenizer: ExternalProgram.kind, label: label,
                                              dataset: "image-folder", configJSON: configJSON, seed: 0, codeVersion: CodeVersion.current),
                                       params: config.sorted { $0.key < $1.key }.map { ("eval.\($0.key)", $0.value) }
                                           + [("dataset.split", splitDescription), ("dataset.channels", String(orig.channels))]
                                           + ComputeEnvironment.current().pairs)
        let times = StageTimes()
        do {
            try recorder.record(runID: runID, spec: spec, originals: orig, times: times) { observe in
                let evaluator = try StreamingEvaluator(images: orig.count, bytesPerImage: orig.bytesPerImage, log2Vocab: log2V, hasTokens: tokens != nil,
                                                       times: times, perceptual: recorder.perceptual,
                                                       cachedOriginals: recorder.cachedFeatures(spec, images: orig.count, listed: true))
                var b = 0
                while b < orig.count {
                    let r = b..<min(orig.count, b + StreamingEvaluator.defaultChunk)
                    let (o, rc) = try times.time("read") { (try orig.read(r), try recon.read(r)) }
                    let chunk = EvalChunk(first: b, originals: o, reconstructions: rc, tokens: tokens?.images(r))
                    try observe(chunk)
                    try evaluator.consume(chunk)
                    b = r.upperBound
                }
                let report = try evaluator.finish()
                recorder.cacheFeatures(evaluator, spec: spec, images: orig.count, listed: true)
                return report
            }
        } catch {
            try store.failRun(runID: runID, reason: String(describing: error))
            throw error
        }
        say("stages: " + times.summary(images: orig.count))
        return runID
    }

    // MARK: saved runs

    /// Re-evaluates finished run `id` from its checkpoint, on its own eval split or on `dataset`
    /// (resolution and channels are the run's). Returns the new run's id and the original's results.
    public func reevaluate(run id: Int64, dataset other: DatasetSpec?) throws -> (runID: Int64, original: [String: Double]) {
        try store.recordDefinitions(Metric.all)
        let run = try FinishedRun(id, in: store)
        let stored = run.stored, config = run.config
        var spec = config.dataset.withCache(cacheDir)
        if var o = other {
            o.resolution = spec.resolution; o.channels = spec.channels; o.seed = o.seed == 0 ? spec.seed : o.seed
            spec = o.withCache(cacheDir)
        }
        let data = try Dataset.load(spec)
        let shape = ImageShape(channels: data.eval.channels, height: data.eval.height, width: data.eval.width)
        let tokenizer = try TokenizerRegistry.make(config.tokenizer, shape: shape, seed: UInt64(bitPattern: stored.run.seed))
        try run.restore(tokenizer, say: say)
        var newConfig = config
        newConfig.dataset = spec
        let key = stored.run.runKey + " | eval of run \(id) on \(spec.kind.rawValue) \(spec.path)"
        let runID = try store.beginRun(NewRun(experimentID: stored.run.experimentID, runKey: key, tokenizer: stored.run.tokenizer,
                                              label: stored.run.label + (other == nil ? " (re-evaluated)" : " on \(spec.kind.rawValue)"),
                                              dataset: spec.kind.rawValue, configJSON: newConfig.json, seed: UInt64(bitPattern: stored.run.seed),
                                              codeVersion: CodeVersion.current),
                                       params: newConfig.params + [("evaluates_run", String(id)), ("dataset.split", data.splitDescription)]
                                           + ComputeEnvironment.current().pairs)
        do { try recorder.record(tokenizer, on: data, runID: runID) } catch {
            try store.failRun(runID: runID, reason: String(describing: error))
            throw error
        }
        return (runID, stored.results)
    }
}

extension ExternalEvaluation {
    /// The headline numbers of a recorded run, one per line.
    public func summary(run id: Int64) throws -> String {
        guard let r = try store.runs([id]).first else { throw StoreError("run \(id) does not exist") }
        return "recorded run \(id) (\(r.run.label)) in experiment \(r.experiment)\n" + Self.headline.compactMap { m in
            r.results[m.key].map { "  " + m.key.padding(toLength: 18, withPad: " ", startingAt: 0) + m.format($0) }
        }.joined(separator: "\n")
    }

    /// A re-evaluation beside the run it re-evaluates: every headline number and whether it is identical.
    public func comparison(run id: Int64, with original: Int64, original results: [String: Double]) throws -> String {
        guard let r = try store.runs([id]).first else { throw StoreError("run \(id) does not exist") }
        var out = "recorded run \(id): run \(original) re-evaluated on \(r.run.dataset)\n"
        out += "  " + "metric".padding(toLength: 18, withPad: " ", startingAt: 0) + "run \(original)".padding(toLength: 22, withPad: " ", startingAt: 0) + "now\n"
        for m in Self.headline {
            guard let now = r.results[m.key] else { continue }
            let then = results[m.key]
            out += "  " + m.key.padding(toLength: 18, withPad: " ", startingAt: 0) + (then.map { String($0) } ?? "–").padding(toLength: 22, withPad: " ", startingAt: 0)
                + String(now) + (then == now ? "  (identical)" : "") + "\n"
        }
        return out
    }

    static let headline: [Metric] = [.psnr, .ssim, .usage, .perplexity, .tokensPerImage, .log2Vocab, .capacityBPB, .tokenRateBPB, .tokenEntropyBPB,
                                     .dataBPB, .deficitBPB]
}

extension JSONEncoder {
    static var sorted: JSONEncoder { let e = JSONEncoder(); e.outputFormatting = [.sortedKeys]; return e }
}
