import XCTest
import Kernels
import Datasets
import Tokenizers
import Store
import Training
import Settings
@testable import Experiments

final class ExperimentTests: XCTestCase {
    var folder = ""

    /// A tiny PNG folder dataset (6 images 8×8 RGB), made in the test.
    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "tokbench-exp-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var rng = SplitMix64(seed: 1)
        for i in 0..<6 {
            let img = ImageBatch(count: 1, channels: 3, height: 8, width: 8, pixels: (0..<192).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            try Data(encodePNG(img)).write(to: URL(fileURLWithPath: folder + "/img\(i).png"))
        }
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    func text(_ tokenizers: String, dataset: String? = nil, extra: String = "") -> String {
        """
        name = "t"
        seed = 0
        \(extra)
        [dataset]
        \(dataset ?? "kind = \"image-folder\"\npath = \"\(folder)\"\nresolution = 8\neval_images = 2")
        \(tokenizers)
        """
    }

    func testEvaluationTableNamesPerceptualMetrics() throws {
        let tok = "[[tokenizer]]\nkind = \"raw-patch\"\n"
        XCTAssertEqual(try Experiment.parse(text: text(tok)).evaluation, [])
        let e = try Experiment.parse(text: text(tok) + "\n[evaluation]\nmetrics = [\"rfid\", \"lpips-alex\"]\n")
        XCTAssertEqual(e.evaluation.map(\.rawValue), ["rfid", "lpips-alex"])
        for (bad, says) in [("metrics = [\"fid\"]", "unknown metric \"fid\""), ("metrics = \"rfid\"", "must be a list"), ("metric = [\"rfid\"]", "unknown key")] {
            XCTAssertThrowsError(try Experiment.parse(text: text(tok) + "\n[evaluation]\n\(bad)\n")) { err in
                let line = String(describing: err)
                XCTAssertTrue(line.contains(says) && line.contains(":"), line)
                XCTAssertFalse(line.contains("\n"))
            }
        }
    }

    func testPreprocessIsNamedRecordedAndKeyed() throws {
        let tok = "[[tokenizer]]\nkind = \"raw-patch\"\n"
        let plain = try Experiment.parse(text: text(tok))
        XCTAssertNil(plain.dataset.preprocess)   // absent: "area", and absent from the recorded spec
        XCTAssertFalse(String(decoding: try JSONEncoder().encode(plain.dataset), as: UTF8.self).contains("preprocess"))
        let adm = try Experiment.parse(text: text(tok, dataset: "kind = \"image-folder\"\npath = \"\(folder)\"\nresolution = 8\neval_images = 2\npreprocess = \"adm\""))
        XCTAssertEqual(adm.dataset.preprocess, .adm)
        XCTAssertTrue(String(decoding: try JSONEncoder().encode(adm.dataset), as: UTF8.self).contains("\"preprocess\":\"adm\""))
        XCTAssertEqual(try JSONDecoder().decode(DatasetSpec.self, from: try JSONEncoder().encode(adm.dataset)), adm.dataset)
        // The data-rate cache keys the two apart; the plain key is the one of runs made before the key existed.
        XCTAssertFalse(EvaluationRecorder.dataRateKey(plain.dataset).contains("pre="))
        XCTAssertTrue(EvaluationRecorder.dataRateKey(adm.dataset).hasSuffix("|pre=adm"))
        let loaded = try Dataset.load(adm.dataset)
        XCTAssertTrue(loaded.splitDescription.contains("ADM center_crop_arr"), loaded.splitDescription)
        assertError(text(tok, dataset: "kind = \"image-folder\"\npath = \"\(folder)\"\npreprocess = \"bicubic\""), line: 7, key: "dataset.preprocess", "unknown preprocess \"bicubic\" (known: area, adm, torchvision)")
        assertError(text(tok, dataset: "kind = \"fashion-mnist\"\npreprocess = \"adm\""), line: 6, key: "dataset.preprocess", "only for kind = \"image-folder\"")
    }

    /// eval_images = every file of the folder (ImageNet val scored whole): the train split is empty and a
    /// tokenizer that does not train is evaluated on all of them.
    func testAWholeFolderIsEvaluatedWithNoTrainSplit() throws {
        let e = try Experiment.parse(text: text("[[tokenizer]]\nkind = \"raw-patch\"\npatch = 4\nbits = 4\n",
                                                 dataset: "kind = \"image-folder\"\npath = \"\(folder)\"\nresolution = 8\neval_images = 6"))
        let store = try ResultStore()
        let ids = try ExperimentRunner(store: store, cacheDir: NSTemporaryDirectory(), say: { _ in }).run(e)
        XCTAssertEqual(ids.count, 1)
        XCTAssertEqual(try store.query("SELECT status FROM run").rows, [[.text("finished")]])
        XCTAssertEqual(try store.query("SELECT count FROM image_metric WHERE key = 'psnr'").rows, [[.integer(6)]])
        let split = try store.query("SELECT value FROM param WHERE key = 'dataset.split'").rows
        XCTAssertTrue(split[0][0].description.contains("first 6 eval, 0 train"), "\(split)")
    }

    func testSweepsExpandToOneRunPerValue() throws {
        let e = try Experiment.parse(text: text("[[tokenizer]]\nkind = \"raw-patch\"\npatch = [2, 4]\nbits = [8, 4, 2]\n"))
        XCTAssertEqual(e.runs.count, 6)
        XCTAssertEqual(Set(e.runs.map(\.key)).count, 6)
        XCTAssertEqual(e.runs[0].tokenizer.values, ["patch": .int(2), "bits": .int(8)])
        XCTAssertEqual(e.training, TrainingPlan())   // defaults
    }

    func testSeedsMultiplyRuns() throws {
        let e = try Experiment.parse(text: text("[[tokenizer]]\nkind = \"raw-patch\"\n").replacingOccurrences(of: "seed = 0", with: "seeds = [1, 2]"))
        XCTAssertEqual(e.runs.map(\.seed), [1, 2])
    }

    /// Every seed of an experiment is measured on the same eval images: the split follows
    /// dataset.seed (default: the first seed), not each run's seed.
    func testSeedsShareOneEvalSplit() throws {
        let toml = text("[[tokenizer]]\nkind = \"raw-patch\"\npatch = 4\nbits = 2\n").replacingOccurrences(of: "seed = 0", with: "seeds = [3, 4]")
        let e = try Experiment.parse(text: toml)
        XCTAssertEqual(e.dataset.seed, 3)
        XCTAssertEqual(try Experiment.parse(text: toml.replacingOccurrences(of: "[dataset]", with: "[dataset]\nseed = 9")).dataset.seed, 9)
        let store = try ResultStore()
        let ids = try ExperimentRunner(store: store, cacheDir: NSTemporaryDirectory(), say: { _ in }).run(e)
        XCTAssertEqual(ids.count, 2)
        let prints = try store.query("SELECT DISTINCT value FROM param WHERE key = 'dataset.eval_sha256'").rows
        XCTAssertEqual(prints.count, 1)
        XCTAssertEqual(prints[0][0].description.count, 64)
        XCTAssertEqual(try store.query("SELECT DISTINCT value FROM param WHERE key = 'dataset.seed'").rows, [[.text("3")]])
        XCTAssertEqual(try store.query("SELECT count(*) FROM image_metric").rows, [[.integer(4)]])   // psnr + ssim per run
    }

    func assertError(_ toml: String, line: Int?, key: String?, _ fragment: String, file: StaticString = #filePath, l: UInt = #line) {
        XCTAssertThrowsError(try Experiment.parse(text: toml, file: "x.toml"), file: file, line: l) { e in
            guard let x = e as? ExperimentError else { return XCTFail("\(e)", file: file, line: l) }
            XCTAssertEqual(x.line, line, x.description, file: file, line: l)
            XCTAssertEqual(x.key, key, x.description, file: file, line: l)
            XCTAssertTrue(x.description.contains(fragment), x.description, file: file, line: l)
            XCTAssertTrue(x.description.hasPrefix("x.toml"), file: file, line: l)
            XCTAssertFalse(x.description.contains("\n"), file: file, line: l)
        }
    }

    func testErrorsNameFileLineAndKey() {
        // Lines: 1 name, 2 seed, 3 extra, 4 [dataset], 5 kind, 6 path, 7 resolution, 8 eval_images, 9 [[tokenizer]], 10…
        assertError(text("[[tokenizer]]\nkind = \"raw-patch\"\npatchh = 4\n"), line: 11, key: "tokenizer[0].patchh", "did you mean patch?")
        assertError(text("[[tokenizer]]\nkind = \"raw-patch\"\nbits = 9\n"), line: 11, key: "tokenizer[0].bits", "must be in 1…8")
        assertError(text("[[tokenizer]]\nkind = \"raw-patch\"\nbits = [8, 0]\n"), line: 11, key: "tokenizer[0].bits", "got 0")
        assertError(text("[[tokenizer]]\nkind = \"raw-patch\"\npatch = 3\n"), line: 11, key: "tokenizer[0].patch", "does not divide the resolution 8x8")
        assertError(text("[[tokenizer]]\nkind = \"raw-patch\"\nbits = \"8\"\n"), line: 11, key: "tokenizer[0].bits", "must be an integer")
        assertError(text("[[tokenizer]]\nkind = \"vq-magic\"\n"), line: 10, key: "tokenizer[0].kind", "unknown tokenizer")
        assertError(text("[[tokenizer]]\nkind = \"raw-patch\"\n", extra: "colour = 1"), line: 3, key: "colour", "unknown key")
        assertError(text("[[tokenizer]]\nkind = \"raw-patch\"\n", dataset: "kind = \"fashion-mnist\"\npath = \"/nope\""), line: 6, key: "dataset.path", "/nope/train-images-idx3-ubyte.gz: not found")
        assertError(text("[[tokenizer]]\nkind = \"raw-patch\"\n", dataset: "kind = \"image-folder\"\npath = \"\(folder)\"\neval_images = 7"), line: 6, key: "dataset.path", "has 6 PNG/JPEG files, need at least eval_images = 7")
        // Every file evaluated (ImageNet val scored whole): a tokenizer that does not train runs, one that trains is refused.
        let all = "kind = \"image-folder\"\npath = \"\(folder)\"\nresolution = 8\neval_images = 6"
        XCTAssertNoThrow(try Experiment.parse(text: text("[[tokenizer]]\nkind = \"raw-patch\"\n", dataset: all), file: "x.toml"))
        assertError(text("[[tokenizer]]\nkind = \"raw-patch\"\n[[tokenizer]]\nkind = \"vq-vae\"\ncodebook_size = 16\n", dataset: all), line: 8, key: "dataset.eval_images",
                    "takes all 6 files of \(folder), leaving no train images, and vq-vae(codebook_size=16) trains")
        assertError(text(""), line: nil, key: "tokenizer", "declare at least one")
        assertError("name = \"t\"\n[dataset\n", line: 2, key: nil, "expected ]")
        assertError(text("[[tokenizer]]\nkind = \"raw-patch\"\n[training]\nsteps = -1\n"), line: 12, key: "training.steps", "must be in 0…100000000, got -1")
    }

    func testOverrides() throws {
        let path = folder + "/e.toml"
        try text("[[tokenizer]]\nkind = \"raw-patch\"\nbits = [8, 4]\n[training]\nsteps = 100\n").write(toFile: path, atomically: true, encoding: .utf8)
        let e = try Experiment.load(path: path, overrides: ["training.steps=7", "tokenizer.0.bits=[2]", "dataset.eval_images=3"])
        XCTAssertEqual(e.training.steps, 7)
        XCTAssertEqual(e.runs.map { $0.tokenizer.values["bits"] }, [.int(2)])
        XCTAssertEqual(e.dataset.evalImages, 3)
        XCTAssertThrowsError(try Experiment.load(path: path, overrides: ["training.stepz=7"])) { e in
            XCTAssertTrue(String(describing: e).contains("training.stepz: unknown key"), String(describing: e))
        }
    }

    func testRunnerRecordsEveryRun() throws {
        let e = try Experiment.parse(text: text("[[tokenizer]]\nkind = \"raw-patch\"\npatch = 4\nbits = [8, 1]\n"))
        let store = try ResultStore()
        let ids = try ExperimentRunner(store: store, cacheDir: NSTemporaryDirectory(), say: { _ in }).run(e)
        XCTAssertEqual(ids.count, 2)
        let s = try store.summary()
        let col = { (name: String) in s.columns.firstIndex(of: name)! }
        XCTAssertEqual(s.rows.map { $0[col("status")] }, [.text("finished"), .text("finished")])
        XCTAssertEqual(s.rows[0][col("psnr")], .real(.infinity))
        XCTAssertEqual(s.rows[0][col("capacity_bpb")], .real(8))
        XCTAssertEqual(s.rows[1][col("capacity_bpb")], .real(1))
        guard case .real(let p) = s.rows[1][col("psnr")] else { return XCTFail() }
        XCTAssertTrue(p > 0 && p < 20, "\(p)")
        // Every run records the budget: data bpb (cached once per split), capacity, token rate, deficit.
        for id in ids {
            let keys = Set(try store.query("SELECT key FROM result WHERE run_id = \(id)").rows.map { $0[0].description })
            for k in ["data_bpb", "data_bpb_png", "data_bpb_tokbench-cold", "capacity_bpb", "token_rate_bpb", "token_entropy_bpb", "deficit_bpb", "min_log2v_lossless", "ssim"] {
                XCTAssertTrue(keys.contains(k), "run \(id) lacks \(k)")
            }
        }
        XCTAssertEqual(try store.query("SELECT count(*) FROM data_rate").rows, [[.integer(2)]])   // cold + png, measured once
        // Random pixels are incompressible: the data needs about 8 bits per byte, and the lossless
        // raw-patch stream costs about as much.
        let dataBPB = try store.query("SELECT value FROM result WHERE key = 'data_bpb' AND run_id = \(ids[0])").rows[0][0]
        if case .real(let v) = dataBPB { XCTAssertGreaterThan(v, 7.5) } else { XCTFail() }
        let split = try store.query("SELECT value FROM param WHERE key = 'dataset.split' AND run_id = \(ids[0])").rows
        XCTAssertTrue(split[0][0].description.contains("first 2 eval, 4 train"))
    }

    /// NaN in the loss stops a run: it is recorded as failed with the step and reason, and the
    /// sweep goes on to the next run.
    func testDivergedRunIsRecordedAsFailedAndTheSweepGoesOn() throws {
        let e = try Experiment.parse(text: text("""
            [[tokenizer]]
            kind = "fsq"
            hidden = 8
            residual = 4
            latent_dim = 4
            codebook_size = 256
            downsamplings = 1
            [[tokenizer]]
            kind = "raw-patch"
            [training]
            steps = 5
            batch = 2
            eval_every = 5
            log_every = 1
            """))
        let store = try ResultStore()
        let runner = ExperimentRunner(store: store, cacheDir: NSTemporaryDirectory(), say: { _ in })
        runner.beforeTraining = { t in
            if let latent = t as? LatentTokenizer { latent.params.values.data[0] = .nan }   // poison one weight
        }
        let ids = try runner.run(e)
        XCTAssertEqual(ids.count, 2)
        let rows = try store.query("SELECT status, error FROM run ORDER BY id").rows
        XCTAssertEqual(rows[0][0], .text("failed"))
        XCTAssertTrue(rows[0][1].description.contains("training diverged at step 1: loss is nan"), rows[0][1].description)
        XCTAssertEqual(rows[1][0], .text("finished"))
    }
}
