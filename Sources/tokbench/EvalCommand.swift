import ArgumentParser
import Foundation
import Datasets
import Experiments
import Store
import Perceptual

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score a tokenizer's outputs made elsewhere, or re-evaluate a recorded run from its checkpoint.",
        discussion: """
            tokbench eval --originals DIR --reconstructions DIR [--tokens T.npy --vocab-size V] --experiment NAME --label LABEL
              two folders of PNG/JPEG files matched by name (or two uint8 .npy arrays [N, H, W, C]); tokens are integers [N, L] or [N, L, W]
            tokbench eval --run ID [--dataset KIND --path P --eval-images N --seed S]
              the run's tokenizer from its checkpoint, on its own eval split or on another dataset
            """)

    @Option(help: "Folder (or uint8 .npy) of the original images.") var originals: String?
    @Option(help: "Folder (or uint8 .npy) of the reconstructions, same names as the originals.") var reconstructions: String?
    @Option(help: "Tokens (.npy, integers [N, L] or [N, L, W]).") var tokens: String?
    @Option(help: "V: values per token word (with --tokens).") var vocabSize: Int?
    @Option(help: "Experiment the result is recorded under.") var experiment: String?
    @Option(help: "Label of the recorded run.") var label: String?
    @Option(name: .customLong("run"), help: "A finished run to re-evaluate from its checkpoint.") var runID: Int64?
    @Option(help: "With --run: evaluate on this dataset kind instead (fashion-mnist, photos, cifar10, image-folder, imagenet64-npz).") var dataset: String?
    @Option(help: "With --dataset: its folder.") var path: String?
    @Option(help: "With --dataset: eval images.") var evalImages: Int = 1000
    @Option(help: "With --dataset: seed of its split (0: the run's).") var seed: UInt64 = 0
    @Option(help: "Perceptual metrics beside PSNR, SSIM and the budget, comma separated: rfid, kid, fid-inf, lpips-alex, lpips-vgg (weights: tokbench weights).")
    var metrics: String?
    @Option(help: "The weights folder (default: $TOKBENCH_WEIGHTS or ~/.cache/tokbench/weights).") var weights: String?
    @OptionGroup var store: StoreOptions

    func validate() throws {
        if runID != nil {
            guard originals == nil, reconstructions == nil, tokens == nil else { throw ValidationError("--run re-evaluates a run: give no --originals/--reconstructions/--tokens") }
            if let d = dataset, DatasetSpec.Kind(rawValue: d) == nil {
                throw ValidationError("unknown dataset \"\(d)\" (known: \(DatasetSpec.Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
        } else {
            guard originals != nil, reconstructions != nil else { throw ValidationError("give --originals and --reconstructions (or --run ID)") }
            guard experiment != nil, label != nil else { throw ValidationError("give --experiment NAME and --label LABEL to record the result under") }
            if let why = Experiment.badName(experiment!) { throw ValidationError("--experiment: \(why)") }
            guard (tokens == nil) == (vocabSize == nil) else { throw ValidationError("--tokens and --vocab-size go together") }
            if let v = vocabSize, !(2...(1 << 32)).contains(v) {
                throw ValidationError("--vocab-size \(v) is outside 2…2^32 (the values of one token word; give tokens [N, L, W] for a larger V)")
            }
            guard dataset == nil else { throw ValidationError("--dataset goes with --run") }
        }
        guard evalImages > 0 else { throw ValidationError("--eval-images must be positive") }
        do { _ = try perceptualMetrics() } catch { throw ValidationError(String(describing: error)) }
    }

    func perceptualMetrics() throws -> [PerceptualMetric] {
        try PerceptualMetric.parse(metrics.map { $0.split(separator: ",").map(String.init) } ?? [], field: "--metrics")
    }

    func run() throws {
        let results = try ResultStore(path: store.db, mustExist: runID != nil)
        defer { results.close() }
        var evaluation = ExternalEvaluation(store: results, artifactDir: store.artifactDir, cacheDir: store.cacheDir, say: { print($0) })
        evaluation.recorder.perceptual = try PerceptualSuite.load(try perceptualMetrics(), folder: WeightsCatalogue.folder(weights))
        if let id = runID {
            let other = dataset.flatMap(DatasetSpec.Kind.init(rawValue:)).map { DatasetSpec(kind: $0, path: path, evalImages: evalImages, seed: seed) }
            let (newID, original) = try evaluation.reevaluate(run: id, dataset: other)
            print(try evaluation.comparison(run: newID, with: id, original: original))
        } else {
            let id = try evaluation.evaluateFiles(originals: originals!, reconstructions: reconstructions!, tokens: tokens, vocabSize: vocabSize,
                                                  experiment: experiment!, label: label!)
            print(try evaluation.summary(run: id))
        }
    }
}
