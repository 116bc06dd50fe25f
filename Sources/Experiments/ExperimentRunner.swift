import Foundation
import Perceptual
import Datasets
import Tokenizers
import Store
import Training
import Metrics
import MetricCatalogue
import Kernels
import Settings
import Probing

/// Runs every run of an experiment and records each in the store:
/// dataset → tokenizer (trained by the training loop when it learns, or run as an external program)
/// → evaluator → store (ARCHITECTURE.md, "Data flow").
public final class ExperimentRunner {
    let store: ResultStore
    let artifactDir: String?
    let say: (String) -> Void
    let cacheDir: String
    var recorder: EvaluationRecorder
    let trainer: Trainer = TrainingLoop()
    var datasets: [DatasetSpec: Dataset] = [:]
    /// Called with each tokenizer before it trains (tests use it to inject faults).
    public var beforeTraining: (Tokenizer) -> Void = { _ in }
    /// Called after each checkpoint is recorded, with the number recorded so far by this process
    /// (the crash-safety check uses it to kill the process at a known point).
    public var afterCheckpoint: (Int) -> Void = { _ in }
    var checkpointsRecorded = 0

    /// artifactDir: where per-run files (reconstruction strips, checkpoints) go; nil keeps none.
    /// cacheDir: where dataset caches live (the photo tiles), beside the database.
    public init(store: ResultStore, artifactDir: String? = nil, cacheDir: String, say: @escaping (String) -> Void) {
        self.store = store; self.artifactDir = artifactDir; self.cacheDir = cacheDir; self.say = say
        recorder = EvaluationRecorder(store: store, artifactDir: artifactDir, say: say)
    }

    /// Returns the ids of the runs recorded. A run that fails is recorded as `failed` with its
    /// reason and the sweep goes on.
    /// With `resume`, the latest experiment of the same name is continued: finished runs are
    /// skipped, interrupted or failed runs continue from their last checkpoint (or start over
    /// when they have none), runs not yet started start.
    @discardableResult
    public func run(_ experiment: Experiment, resume: Bool = false) throws -> [Int64] {
        // The perceptual metrics' weights: located (one line naming a missing file) and loaded before any run starts.
        recorder.perceptual = try PerceptualSuite.load(experiment.evaluation, folder: WeightsCatalogue.folder())
        try recorder.perceptual?.check(height: experiment.dataset.resolution, width: experiment.dataset.resolution)
        recorder.featureCache = experiment.evaluation.contains(where: \.usesInception) ? (cacheDir as NSString).appendingPathComponent("features") : nil
        try store.markInterruptedRuns()
        try store.recordDefinitions(Metric.all)
        probe = experiment.probe
        prober = nil
        if let p = probe {
            prober = ProbeRunner(store: store, artifactDir: artifactDir,
                                 perceptual: ProbeRunner.sampleScorer(samples: p.samples, existing: recorder.perceptual, folder: WeightsCatalogue.folder(), say: say),
                                 featureCache: (cacheDir as NSString).appendingPathComponent("features"), say: say)
        }
        let experimentID: Int64
        if resume {
            // get-or-create in one transaction: shards started at once on one database share the experiment
            experimentID = try store.experimentID(named: experiment.name, file: experiment.file, fileSHA256: experiment.fileSHA256)
        } else {
            experimentID = try store.createExperiment(name: experiment.name, file: experiment.file, fileSHA256: experiment.fileSHA256)
        }
        var ids: [Int64] = []
        failedRuns = 0
        for (i, planned) in experiment.runs.enumerated() {
            let tag = "[\(i + 1)/\(experiment.runs.count)] \(planned.key)"
            let config = runConfig(planned, of: experiment)
            let new = NewRun(experimentID: experimentID, runKey: planned.key, tokenizer: planned.tokenizer.kind, label: planned.tokenizer.label,
                             dataset: config.dataset.kind.rawValue, configJSON: config.json, seed: planned.seed, codeVersion: CodeVersion.current)
            let params = config.params + (experiment.planIndex(of: planned).map { [("plan.index", String($0))] } ?? [])
                + (experiment.evaluation.isEmpty ? [] : [("evaluation.metrics", experiment.evaluation.map(\.rawValue).joined(separator: ","))])
            guard resume else {
                say(tag)
                ids.append(try runOne(planned, config: config, runID: try store.beginRun(new, params: params), checkpoint: nil))
                continue
            }
            // One atomic claim per run key: another process resuming the same database skips what this one holds.
            switch try store.claimRun(new, params: params) {
            case .finished(let id): say(tag + ": finished as run \(id), skipped"); ids.append(id)
            case .busy(let id): say(tag + ": run \(id) is running in another process, skipped")
            case .claimed(let id, let checkpoint, let resumed):
                say(resumed ? tag + ": resuming run \(id)" + (checkpoint != nil ? " from its checkpoint" : " from the start") : tag)
                ids.append(try runOne(planned, config: config, runID: id, checkpoint: checkpoint))
            }
        }
        return ids
    }

    /// Runs of the last `run` call that were recorded `failed` (AR probes that failed count too).
    public private(set) var failedRuns = 0
    /// The experiment's [ar_probe] table: each learned tokenizer's finished run is probed (nil: none).
    var probe: ARProbeConfig?
    var prober: ProbeRunner?

    func runConfig(_ planned: PlannedRun, of experiment: Experiment) -> RunConfig {
        var plan = experiment.training
        plan.seed = planned.seed
        // the split's seed is the experiment's (dataset.seed), not the run's
        return RunConfig(experiment: experiment.name, dataset: experiment.dataset.withCache(cacheDir), training: plan, tokenizer: planned.tokenizer,
                         directory: (experiment.file as NSString).deletingLastPathComponent)
    }

    func dataset(_ spec: DatasetSpec) throws -> Dataset {
        if let d = datasets[spec] { return d }
        let start = Date()
        let d = try Dataset.load(spec)
        say(String(format: "  loaded %@: %d train, %d eval images %@ (%.1fs)", spec.kind.rawValue, d.train.count, d.eval.count,
                   "\(d.eval.height)x\(d.eval.width)x\(d.eval.channels)", Date().timeIntervalSince(start)))
        datasets[spec] = d
        return d
    }

    func runOne(_ planned: PlannedRun, config: RunConfig, runID: Int64, checkpoint resumeFrom: String?) throws -> Int64 {
        let spec = config.dataset, plan = config.training
        // The run's sign of life while it runs (resume treats a silent run as interrupted, on any host).
        let heartbeat = Heartbeat(interval: ResultStore.heartbeatInterval) { [store] in try? store.heartbeat(runID: runID) }
        defer { heartbeat.stop() }
        do {
            let data = try dataset(spec)
            let shape = ImageShape(channels: data.eval.channels, height: data.eval.height, width: data.eval.width)
            try store.recordParams(runID: runID, [("dataset.split", data.splitDescription), ("definitions", "see table definition")]
                                  + ComputeEnvironment.current().pairs)
            let tokenizer: Tokenizer
            switch try TokenizerRegistry.build(planned.tokenizer, shape: shape, seed: planned.seed, directory: config.directory.isEmpty ? "." : config.directory) {
            case .external(let program):
                // where the program ran (absolute): `probe --run` runs it there again to decode samples
                let folder = URL(fileURLWithPath: program.directory, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL.path
                try store.recordParams(runID: runID, [("tokenizer.directory", folder)])
                try runExternal(program, seed: planned.seed, data: data, runID: runID)
                return runID
            case .native(let t): tokenizer = t
            }
            beforeTraining(tokenizer)
            let trainStart = Date()
            var checkpoint: String? = nil
            if let learned = tokenizer as? TrainableTokenizer {
                checkpoint = try train(learned, data: data, plan: plan, runID: runID, config: config, resumeFrom: resumeFrom)
            }
            let trainSeconds = Date().timeIntervalSince(trainStart)
            let report = try recorder.record(tokenizer, on: data, runID: runID, extra: [(.trainSeconds, trainSeconds)],
                                             artifacts: checkpoint.map { [("checkpoint", $0)] } ?? [])
            say(String(format: "  run %lld: PSNR %@ dB, L = %d, log2V = %.1f, capacity %.3f bits/byte",
                       runID, formatPSNR(report.value(.psnr)!), tokenizer.tokensPerImage, tokenizer.log2VocabularySize,
                       report.value(.capacityBPB)!))
            if let config = probe, let prober, tokenizer is TrainableTokenizer {
                do { failedRuns += try prober.probe(tokenizer, data: data, runID: runID, config: config).failed } catch {
                    say("  AR probe of run \(runID) failed: \(error)"); failedRuns += 1
                }
            }
        } catch {
            try store.failRun(runID: runID, reason: String(describing: error))
            failedRuns += 1
            say("  run \(runID) failed: \(error)")
        }
        return runID
    }

    /// An external tokenizer: the program tokenizes (and, with train = true, first trains) on its own;
    /// its outputs go through the same evaluator and recorder as native runs.
    /// With an [ar_probe] table, a version 3 program's run is probed on the tokens it sent (train and eval);
    /// versions 1 and 2 send no train tokens, so their runs are not probed (said in one line).
    func runExternal(_ program: ExternalProgram, seed: UInt64, data: Dataset, runID: Int64) throws {
        let report: EvaluationReport, seconds: Double
        var words: Result<ProbeWords, Error>? = nil
        if program.options.version >= 2 {
            (report, seconds, words) = try runChunked(program, seed: seed, data: data, runID: runID)
        } else {
            let outputs = try program.run(train: data.train, eval: try data.evalBatch(), seed: seed, log: say)
            report = try recorder.record(outputs, of: data, runID: runID)
            seconds = outputs.seconds
        }
        say(String(format: "  run %lld: PSNR %@ dB, L = %.0f, log2V = %.1f, capacity %.3f bits/byte (external, %.1f s)",
                   runID, formatPSNR(report.value(.psnr)!), report.value(.tokensPerImage) ?? 0, report.value(.log2Vocab) ?? 0,
                   report.value(.capacityBPB) ?? 0, seconds))
        guard let config = probe, let prober else { return }
        guard let words else {
            say("  run \(runID) is not AR probed: protocol \(program.options.version) sends back no train tokens (protocol = 3 does)")
            return
        }
        let decode = ProbeRunner.decoder(program, data: data, seed: seed, say: say)
        do { failedRuns += try prober.probe(try words.get(), decode: decode, external: true, data: data, runID: runID, config: config).failed } catch {
            say("  AR probe of run \(runID) failed: \(error)"); failedRuns += 1
        }
    }

    /// Protocol v2 and v3: the outputs arrive chunk by chunk and are measured as they come; the evaluation state
    /// is saved after every chunk in the run's folder (ARTIFACTS/run-ID-chunks), so a failed run resumes there.
    /// Version 3 under an [ar_probe] also returns the probe's words (the eval tokens, spooled with the chunks,
    /// and the train tokens the program encoded), saved as the run's `probe-words` artifact; a failure there
    /// is the probe's (returned), not the evaluation's.
    func runChunked(_ program: ExternalProgram, seed: UInt64, data: Dataset, runID: Int64) throws -> (EvaluationReport, Double, Result<ProbeWords, Error>?) {
        let folder = ((artifactDir ?? NSTemporaryDirectory()) as NSString).appendingPathComponent("run-\(runID)-chunks")
        let cached = try recorder.cachedRates(data.spec, channels: data.eval.channels)
        let probing = probe != nil && program.options.version >= 3
        let evaluation = try ChunkedEvaluation(folder: folder, originals: data.eval, rateCoders: cached.missing, perceptual: recorder.perceptual,
                                               keepsWords: probing)
        let encodeCount = probe.map { ProbeRunner.trainImages($0, split: data.train.count) } ?? 0
        let encoded = folder + "/encode-out.npz"
        let count = (data.eval.count + program.options.chunkImages - 1) / program.options.chunkImages
        if evaluation.nextChunk > 0 { say("  continuing at chunk \(evaluation.nextChunk) of \(count) (\(folder))") }
        let thisAttempt = data.eval.count - min(data.eval.count, evaluation.nextChunk * program.options.chunkImages)
        let start = Date()
        // Every chunk measured but no train tokens (the program, or tokbench, stopped between its last chunk and
        // its encode-out.npz): the program runs once more from chunk N, which is the encode request alone.
        let encodeMissing = probing && encodeCount > 0 && !FileManager.default.fileExists(atPath: encoded)
        if evaluation.nextChunk < count || encodeMissing {
            if evaluation.nextChunk >= count { say("  every chunk is measured; running the program for the train tokens the AR probe asks for") }
            let encode: (any ImageSource)? = probing && encodeCount > 0 ? FirstImages(data.train, count: encodeCount) : nil
            try program.runChunked(train: program.options.train ? data.train : nil, eval: data.eval, firstChunk: evaluation.nextChunk, seed: seed,
                                   folder: folder + "/exchange", encode: encode, encodedTo: encoded, log: say) { k, originals, outputs in
                try evaluation.consume(chunk: k, originals: originals, outputs: outputs)
            }
        }
        let (report, measured, fingerprint, strips) = try evaluation.finish()
        var words: Result<ProbeWords, Error>? = nil, artifacts: [(kind: String, path: String)] = []
        if probing {
            words = Result {
                guard encodeCount > 0 else { throw ProbeError("run \(runID): the train split is empty, nothing to train a prior on") }
                guard let kept = try evaluation.evalWords() else { throw ProbeError("run \(runID): no eval tokens were kept") }
                let (evalWords, shape) = kept
                let train = try ExternalProgram.readEncoded(encoded, images: encodeCount, length: shape.length, wordsPerToken: shape.wordsPerToken, wordRange: shape.wordRange)
                let w = ProbeWords(train: train, trainCount: encodeCount, eval: evalWords, evalCount: data.eval.count, shape: shape, encodeSeconds: 0)
                if let dir = artifactDir {   // saved with the run, for `probe --run` (a failure here is the probe's too)
                    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                    let path = (dir as NSString).appendingPathComponent("run-\(runID)-probe-words.bin")
                    try w.write(to: path)
                    artifacts.append((kind: "probe-words", path: path))
                }
                return w
            }
        }
        let recorded = try recorder.finish(runID: runID, report: report, cached: cached, measured: measured, images: data.eval.count,
                                           bytesPerImage: data.eval.bytesPerImage, fingerprint: fingerprint, strips: strips, extra: [], artifacts: artifacts)
        say("  stages (this attempt's \(thisAttempt) images): " + evaluation.times.summary(images: thisAttempt))
        evaluation.removeFolder()
        return (recorded, Date().timeIntervalSince(start), words)
    }

    /// Trains through the training loop, recording curves as it goes and a checkpoint at every
    /// evaluation step (continuing from `resumeFrom` when given); returns the final checkpoint's path.
    func train(_ tokenizer: TrainableTokenizer, data: Dataset, plan: TrainingPlan, runID: Int64, config: RunConfig,
               resumeFrom: String?) throws -> String? {
        if let ckpt = resumeFrom, FileManager.default.fileExists(atPath: ckpt) {
            say("  continuing after step \(try tokenizer.loadCheckpoint(from: ckpt))")
        }
        let checkpointPath = artifactDir.map { ($0 as NSString).appendingPathComponent("run-\(runID).safetensors") }
        if let dir = artifactDir { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        var pending: [StepMetrics] = []
        let probe = try data.eval.read(0..<min(500, data.eval.count))   // eval subset for training curves
        let line = ProgressLine()
        let hooks = TrainingHooks(
            log: { m in
                pending.append(m)
                if pending.count >= 20 { try self.flush(&pending, runID) }
            },
            evaluate: { _ in
                let r = try Evaluator.evaluate(tokenizer, on: probe, full: false)
                return [(.evalPSNR, r.value(.psnr)!)] + (r.value(.usage).map { [(.evalUsage, $0)] } ?? [])
            },
            progress: { line.update($0) },
            checkpoint: { step in
                try self.flush(&pending, runID)   // metrics up to the checkpoint are durable with it
                guard let path = checkpointPath else { return }
                try tokenizer.saveCheckpoint(to: path, metadata: ["run_id": String(runID), "config": config.json, "step": String(step)])
                try self.store.recordArtifact(runID: runID, kind: "checkpoint", path: path)
                self.checkpointsRecorded += 1
                self.afterCheckpoint(self.checkpointsRecorded)
            })
        try trainer.train(tokenizer, on: data.train, plan: plan, hooks: hooks)
        try flush(&pending, runID)
        line.finish()
        guard let path = checkpointPath else { return nil }
        try tokenizer.saveCheckpoint(to: path, metadata: ["run_id": String(runID), "config": config.json, "code_version": CodeVersion.current])
        return path
    }

    func flush(_ pending: inout [StepMetrics], _ runID: Int64) throws {
        for m in pending { try store.recordMetrics(runID: runID, step: m.step, m.values) }
        pending.removeAll()
    }
}

public func formatPSNR(_ v: Double) -> String { v.isInfinite ? "∞ (lossless)" : String(format: "%.2f", v) }

/// Everything needed to rerun one run, as stored in `run.config_json` and `param`.
struct RunConfig: Codable {
    var experiment: String
    var dataset: DatasetSpec
    var training: TrainingPlan
    var tokenizer: TokenizerConfig
    /// Where an external program runs (the experiment file's folder); not part of the stored config.
    var directory: String = ""
    enum CodingKeys: String, CodingKey { case experiment, dataset, training, tokenizer }

    var json: String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: (try? enc.encode(self)) ?? Data(), as: UTF8.self)
    }

    var params: [(key: String, value: String)] {
        var p: [(key: String, value: String)] = [
            ("dataset.kind", dataset.kind.rawValue), ("dataset.path", dataset.path),
            ("dataset.resolution", String(dataset.resolution)), ("dataset.channels", String(dataset.channels)),
            ("dataset.eval_images", String(dataset.evalImages)), ("dataset.seed", String(dataset.seed)),
            ("training.steps", String(training.steps)), ("training.batch", String(training.batch)),
            ("training.lr", String(training.learningRate)), ("training.schedule", training.schedule.rawValue),
            ("training.warmup", String(training.warmupSteps)), ("training.grad_clip", training.gradClip.map { String($0) } ?? "off"),
            ("training.eval_every", String(training.evalEvery)), ("training.log_every", String(training.logEvery)),
            ("tokenizer.kind", tokenizer.kind),
        ]
        for k in tokenizer.values.keys.sorted() { p.append(("tokenizer.\(k)", tokenizer.values[k]!.description)) }
        return p
    }
}

extension TokenizerConfig: Codable {
    enum CodingKeys: String, CodingKey { case kind, values }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        try c.encode(values, forKey: .values)
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(kind: try c.decode(String.self, forKey: .kind), values: try c.decode([String: ConfigValue].self, forKey: .values))
    }
}

/// A training progress line: rewritten in place on a terminal, plain periodic lines otherwise.
final class ProgressLine {
    let tty = isatty(STDOUT_FILENO) != 0
    var lastPlain = -1

    func update(_ p: TrainingProgress) {
        var s = String(format: "  step %d/%d  loss %.5f", p.step, p.steps, p.loss)
        for m in p.latest { s += String(format: "  %@ %.4g", m.metric.key, m.value) }
        s += String(format: "  %.0f img/s  ETA %@", p.imagesPerSecond, Self.duration(p.secondsLeft))
        if tty {
            print("\r" + s + "\u{1B}[K", terminator: ""); fflush(stdout)
        } else {
            let decile = p.step * 10 / max(p.steps, 1)
            if decile != lastPlain { lastPlain = decile; print(s); fflush(stdout) }
        }
    }

    func finish() { if tty { print("") } }

    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%dh%02dm", t / 3600, t % 3600 / 60) : String(format: "%dm%02ds", t / 60, t % 60)
    }
}
