import Foundation
import Datasets
import Tokenizers
import Perceptual
import Probing
import Store
import MetricCatalogue

/// `tokbench probe --run ID`: AR probing of a recorded run after the fact. The run's stored config rebuilds
/// its tokenizer and dataset, its checkpoint artifact restores the trained weights, and the probes are
/// recorded against it (ARCHITECTURE.md, "AR probing"). An external protocol v3 run is probed on the words
/// its program sent, saved with the run (its `probe-words` artifact).
public struct ProbeSession {
    public var runID: Int64
    public var config: ARProbeConfig
    public var db: String
    public var artifactDir: String
    public var cacheDir: String
    public var weights: String?
    /// Where an external protocol 3 program runs to decode the samples: --from FILE's folder, else the folder it
    /// ran from (recorded with the run), else the current one.
    public var programDirectory: String?

    public init(runID: Int64, from file: String?, overrides: [String], db: String, artifactDir: String, cacheDir: String, weights: String?) throws {
        self.runID = runID; self.db = db; self.artifactDir = artifactDir; self.cacheDir = cacheDir; self.weights = weights
        config = try Experiment.probeConfig(file: file, overrides: overrides)
        programDirectory = file.map { ($0 as NSString).deletingLastPathComponent }.map { $0.isEmpty ? "." : $0 }
    }

    /// Throws `RunFailures` when a probe was recorded failed.
    public func execute(say: @escaping (String) -> Void) throws {
        let store = try ResultStore(path: db, mustExist: true)
        defer { store.close() }
        try store.recordDefinitions(Metric.all)
        let run = try FinishedRun(runID, in: store)
        let data = try Dataset.load(run.config.dataset)
        let shape = ImageShape(channels: data.eval.channels, height: data.eval.height, width: data.eval.width)
        let seed = UInt64(bitPattern: run.stored.run.seed)
        let built = try TokenizerRegistry.build(run.config.tokenizer, shape: shape, seed: seed, directory: programDirectory ?? run.stored.params["tokenizer.directory"] ?? ".")
        let native: Tokenizer? = if case .native(let t) = built { t } else { nil }
        let program: ExternalProgram? = if case .external(let p) = built { p } else { nil }
        if let tokenizer = native { try run.restore(tokenizer, say: say) }
        let external = program.flatMap { ProbeRunner.decoder($0, data: data, seed: seed, say: say) }   // protocol 3's decode request
        let runner = ProbeRunner(store: store, artifactDir: artifactDir,
                                 perceptual: ProbeRunner.sampleScorer(samples: native != nil || external != nil ? config.samples : 0, existing: nil, folder: WeightsCatalogue.folder(weights), say: say),
                                 featureCache: (cacheDir as NSString).appendingPathComponent("features"), say: say)
        let (ids, failed): ([Int64], Int)
        if let tokenizer = native {
            (ids, failed) = try runner.probe(tokenizer, data: data, runID: runID, config: config)
        } else {
            // An external program's run: the words its protocol 3 program sent, saved with the run.
            guard let path = run.stored.artifacts["probe-words"] else {
                throw ProbeError("run \(runID) is an external program's without a probe-words artifact: only protocol 3 sends back train tokens, under an [ar_probe] table")
            }
            let words = try ProbeWords.read(path, evalImages: data.eval.count, maxTrain: data.train.count)
            if config.trainImages > 0 && words.train.count != ProbeRunner.trainImages(config, split: data.train.count) {
                say("  the program encoded \(words.train.count) train images for the run's probe; this probe learns those (ar_probe.train_images applies at run time)")
            }
            (ids, failed) = try runner.probe(words, decode: external, external: true, data: data, runID: runID, config: config)
        }
        say("recorded probes \(ids.map(String.init).joined(separator: ", ")) of run \(runID) in \(db)")
        if failed > 0 { throw RunFailures(failed: failed, total: ids.count + failed, databases: [db]) }
    }
}

extension Experiment {
    /// An [ar_probe] table for `tokbench probe`: the one of `file` (an experiment file; absent table: the
    /// defaults) with `--set ar_probe.KEY=VALUE` (or `KEY=VALUE`) overrides, checked like an experiment's.
    public static func probeConfig(file: String?, overrides: [String]) throws -> ARProbeConfig {
        let name = file ?? "--set"
        var doc = TOMLTable(line: 0)
        if let f = file {
            guard let data = FileManager.default.contents(atPath: f), let text = String(data: data, encoding: .utf8) else {
                throw ExperimentError(file: f, line: nil, key: nil, message: "cannot read experiment file")
            }
            do { doc = try TOMLParser.parse(text) } catch let e as TOMLError { throw ExperimentError(file: f, line: e.line, key: nil, message: e.message) }
        }
        var table = TOMLTable(line: 0)
        if let node = doc["ar_probe"] { guard case .table(let t) = node.value else { throw ExperimentError(file: name, line: node.line, key: "ar_probe", message: "must be a table") }; table = t }
        var wrapped = TOMLTable(line: 0)
        wrapped["ar_probe"] = TOMLNode(value: .table(table), line: doc["ar_probe"]?.line ?? 0)
        for o in overrides { try applyOverride(o.hasPrefix("ar_probe.") ? o : "ar_probe." + o, to: &wrapped, file: name) }
        return try ExperimentReader(file: name, sha: "").readProbe(wrapped["ar_probe"]!)
    }
}
