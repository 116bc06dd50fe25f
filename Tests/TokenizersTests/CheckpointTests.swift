import XCTest
import Foundation
import Datasets
import Kernels
@testable import Tokenizers
@testable import Quantizers
import Settings
import Training
import MetricCatalogue

/// Checkpoints outside the CLI: every learned kind, trained a few steps, saved, and loaded into a fresh
/// tokenizer built from the same config with another seed, encodes and decodes exactly like the original.
final class CheckpointTests: XCTestCase {
    func tinyData(count: Int, seed: UInt64) -> ImageBatch {
        var rng = Kernels.SplitMix64(seed: seed)
        var b = ImageBatch(count: count, channels: 1, height: 8, width: 8)
        for i in 0..<b.pixels.count { b.pixels[i] = UInt8(truncatingIfNeeded: rng.next() % 256) }
        return b
    }

    func testEveryLearnedKindRoundTripsItsCheckpoint() throws {
        let shape = ImageShape(channels: 1, height: 8, width: 8)
        let data = Dataset(spec: DatasetSpec(kind: .fashionMNIST), train: tinyData(count: 32, seed: 1), eval: tinyData(count: 6, seed: 2),
                           splitDescription: "generated")
        let small: [String: ConfigValue] = ["hidden": .int(8), "residual": .int(4)]
        // Every learned kind of the registry (a new one is covered without touching this test), small sizes,
        // plus the 1-D backbone once.
        let sizes: [String: [String: ConfigValue]] = [
            "vq-vae": ["codebook_size": .int(16), "latent_dim": .int(4)], "fsq": ["codebook_size": .int(256)], "lfq": ["bits": .int(4)],
            "rvq": ["codebook_size": .int(8), "stages": .int(2), "latent_dim": .int(4)], "simvq": ["codebook_size": .int(32), "latent_dim": .int(4)],
            "bsq": ["bits": .int(4)], "ibq": ["codebook_size": .int(16), "latent_dim": .int(4)],
        ]
        let learned = TokenizerRegistry.entries.map(\.kind).filter { kind in
            (try? TokenizerRegistry.make(TokenizerConfig(kind: kind, values: small), shape: shape)) is TrainableTokenizer
        }
        XCTAssertEqual(Set(learned), Set(TokenizerRegistry.kinds).subtracting(["raw-patch", "external"]))
        let configs = learned.map { TokenizerConfig(kind: $0, values: small.merging(sizes[$0] ?? [:]) { a, _ in a }) }
            + [TokenizerConfig(kind: "vq-vae", values: ["backbone": .string("vit1d"), "tokens": .int(3), "patch": .int(4), "dim": .int(16), "heads": .int(2),
                                                        "depth": .int(1), "codebook_size": .int(16), "latent_dim": .int(4)])]
        var plan = TrainingPlan.defaults
        plan.steps = 6; plan.batch = 8; plan.learningRate = 1e-3; plan.warmupSteps = 0; plan.evalEvery = 3; plan.logEvery = 1
        for config in configs {
            let dir = NSTemporaryDirectory() + "ckpt-\(getpid())-\(config.kind)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let path = dir + "/model.safetensors"

            let eval = try data.evalBatch()
            let trained = try XCTUnwrap(try TokenizerRegistry.make(config, shape: shape, seed: 3) as? TrainableTokenizer, config.kind)
            try TrainingLoop().train(trained, on: data.train, plan: plan, hooks: TrainingHooks())
            try trained.saveCheckpoint(to: path, metadata: ["step": "6"])

            let fresh = try XCTUnwrap(try TokenizerRegistry.make(config, shape: shape, seed: 99) as? TrainableTokenizer)
            // Before loading, the fresh model (another seed) must differ, or the comparison proves nothing.
            XCTAssertNotEqual(fresh.decode(fresh.encode(eval)).pixels, trained.decode(trained.encode(eval)).pixels, config.kind)
            XCTAssertEqual(try fresh.loadCheckpoint(from: path), 6, config.kind)
            let tokens = trained.encode(eval)
            XCTAssertEqual(fresh.encode(eval), tokens, config.kind)
            XCTAssertEqual(fresh.decode(tokens).pixels, trained.decode(tokens).pixels, config.kind)
            // Exact resumption needs the optimizer's moments, the quantizer's buffers and its random state too:
            // two more steps from the checkpoint give bit-identical parameters and outputs.
            var more = plan; more.steps = 8
            try TrainingLoop().train(trained, on: data.train, plan: more, hooks: TrainingHooks())
            try TrainingLoop().train(fresh, on: data.train, plan: more, hooks: TrainingHooks())
            let a = try XCTUnwrap(trained as? LatentTokenizer), b = try XCTUnwrap(fresh as? LatentTokenizer)
            XCTAssertEqual(a.params.values.values, b.params.values.values, "\(config.kind): parameters after resuming")
            XCTAssertEqual(a.quantizer.randomState, b.quantizer.randomState, config.kind)
            XCTAssertEqual(fresh.decode(fresh.encode(eval)).pixels, trained.decode(trained.encode(eval)).pixels, config.kind)
        }
    }

    /// Training reads each batch from its source by index: through a decode cache that holds a quarter of
    /// the split (so images are evicted and decoded again) it gives the in-memory split's parameters exactly.
    func testTrainingThroughADecodeCacheEqualsInMemory() throws {
        let shape = ImageShape(channels: 1, height: 8, width: 8)
        let train = tinyData(count: 32, seed: 1)
        let config = TokenizerConfig(kind: "vq-vae", values: ["hidden": .int(8), "residual": .int(4), "codebook_size": .int(16), "latent_dim": .int(4)])
        var plan = TrainingPlan.defaults
        plan.steps = 10; plan.batch = 8; plan.warmupSteps = 0; plan.evalEvery = 5; plan.logEvery = 1
        var losses: [[Double]] = []
        var params: [[Float]] = []
        let cache = CachedImageSource(train, budgetBytes: 8 * 64)
        for source in [train, cache] as [any ImageSource] {
            let t = try XCTUnwrap(try TokenizerRegistry.make(config, shape: shape, seed: 3) as? LatentTokenizer)
            var seen: [Double] = []
            var hooks = TrainingHooks()
            hooks.log = { m in seen += m.values.filter { $0.metric == .loss }.map(\.value) }
            try TrainingLoop().train(t, on: source, plan: plan, hooks: hooks)
            losses.append(seen); params.append(t.params.values.values)
        }
        XCTAssertEqual(losses[0].count, 10)
        XCTAssertEqual(losses[0], losses[1])
        XCTAssertEqual(params[0], params[1])
        XCTAssertGreaterThan(cache.decoded, 32)
        // An empty split is a one-line error, not a crash.
        let empty = ImageBatch(count: 0, channels: 1, height: 8, width: 8)
        let t = try XCTUnwrap(try TokenizerRegistry.make(config, shape: shape) as? TrainableTokenizer)
        XCTAssertThrowsError(try TrainingLoop().train(t, on: empty, plan: plan, hooks: TrainingHooks())) { XCTAssertTrue("\($0)".contains("nothing to train on"), "\($0)") }
    }

    func testRawPatchHasNothingToTrain() throws {
        let t = try TokenizerRegistry.make(TokenizerConfig(kind: "raw-patch", values: ["patch": .int(4)]), shape: ImageShape(channels: 1, height: 8, width: 8))
        XCTAssertNil(t as? TrainableTokenizer)
    }

    func testLoadingAnotherConfigsCheckpointIsAnError() throws {
        let shape = ImageShape(channels: 1, height: 8, width: 8)
        let a = try TokenizerRegistry.make(TokenizerConfig(kind: "vq-vae", values: ["hidden": .int(8), "residual": .int(4), "codebook_size": .int(16)]), shape: shape) as! TrainableTokenizer
        let path = NSTemporaryDirectory() + "ckpt-mismatch-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try a.saveCheckpoint(to: path, metadata: [:])
        let b = try TokenizerRegistry.make(TokenizerConfig(kind: "vq-vae", values: ["hidden": .int(16), "residual": .int(4), "codebook_size": .int(16)]), shape: shape) as! TrainableTokenizer
        XCTAssertThrowsError(try b.loadCheckpoint(from: path))
    }
}

/// Configs built in code (not from a TOML file) are resolved by the registry: defaults filled in,
/// unknown, mistyped and out-of-range keys are errors naming the key, never a crash.
final class RegistryResolveTests: XCTestCase {
    let shape = ImageShape(channels: 1, height: 8, width: 8)

    func testDefaultsFillMissingKeys() throws {
        let (_, c) = try TokenizerRegistry.resolve(TokenizerConfig(kind: "vq-vae", values: ["codebook_size": .int(16)]))
        XCTAssertEqual(c.values["hidden"], .int(128))
        XCTAssertEqual(c.values["decay"], .double(0.99))
        XCTAssertEqual(c.values["codebook_size"], .int(16))
        let (_, d) = try TokenizerRegistry.resolve(TokenizerConfig(kind: "vq-vae", values: ["decay": .int(0)]))
        XCTAssertEqual(d.values["decay"], .double(0))   // an integer where a number is expected is that number
    }

    func testBadKeysAreErrorsNamingTheKey() {
        func key(_ values: [String: ConfigValue]) -> String? {
            do { _ = try TokenizerRegistry.make(TokenizerConfig(kind: "vq-vae", values: values), shape: shape); return nil }
            catch let e as ConfigError { return e.key } catch { return "other: \(error)" }
        }
        XCTAssertEqual(key(["codebook_sise": .int(16)]), "codebook_sise")
        XCTAssertEqual(key(["codebook_size": .string("16")]), "codebook_size")
        XCTAssertEqual(key(["codebook_size": .int(1)]), "codebook_size")
        XCTAssertEqual(key(["ema": .int(1)]), "ema")
        XCTAssertEqual(key(["decay": .double(1.5)]), "decay")
        XCTAssertEqual(key(["dead_threshold": .double(-1)]), "dead_threshold")
        // The backbone's keys: each backbone's own, and geometry that does not fit (shape: 8×8).
        XCTAssertEqual(key(["backbone": .string("vit")]), "backbone")
        XCTAssertEqual(key(["backbone": .string("vit1d"), "hidden": .int(64)]), "hidden")
        XCTAssertEqual(key(["tokens": .int(16)]), "tokens")
        XCTAssertEqual(key(["backbone": .string("vit1d"), "patch": .int(5)]), "patch")
        XCTAssertEqual(key(["backbone": .string("vit1d"), "dim": .int(100), "heads": .int(3)]), "heads")
        XCTAssertNil(key(["backbone": .string("vit1d"), "tokens": .int(8), "patch": .int(4), "dim": .int(16)]))
    }

    /// FSQ levels are a list of integers (a list of lists sweeps, in experiment files).
    func testFSQLevelsAreAListOfIntegers() throws {
        let t = try TokenizerRegistry.make(TokenizerConfig(kind: "fsq", values: ["levels": .ints([8, 5, 5, 5])]), shape: shape)
        XCTAssertEqual(t.log2VocabularySize, log2(1000), accuracy: 1e-12)
        XCTAssertThrowsError(try TokenizerRegistry.make(TokenizerConfig(kind: "fsq", values: ["levels": .string("8,5,5,5")]), shape: shape))
        XCTAssertThrowsError(try TokenizerRegistry.make(TokenizerConfig(kind: "fsq", values: ["levels": .ints([8, 1])]), shape: shape))
        XCTAssertEqual(TokenizerConfig(kind: "fsq", values: ["codebook_size": .int(1024), "levels": .ints([])]).label, "fsq(codebook_size=1024)")
    }
}
