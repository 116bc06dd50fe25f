import XCTest
import Foundation
import Kernels
import Datasets
import Store
import MetricCatalogue
import Probing
import Reports
@testable import Experiments

/// AR probing end to end on a tiny FSQ run: the [ar_probe] table is read and checked like any table, a
/// probe per seed is recorded against the run with its curve, its numbers agree with each other
/// (bits per token = S × bits per word; bits per byte = bits per word × T / (H·W·C)), `tokbench probe
/// --run` on the stored checkpoint reproduces the in-run probe of the same seed exactly, and the report
/// gains the AR section, figures and samples.
final class ProbeTests: XCTestCase {
    var folder = ""

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "tokbench-probe-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder + "/data", withIntermediateDirectories: true)
        var rng = SplitMix64(seed: 1)
        for i in 0..<10 {
            let img = ImageBatch(count: 1, channels: 3, height: 8, width: 8, pixels: (0..<192).map { _ in UInt8(truncatingIfNeeded: rng.next() & 0xF0) })
            try Data(encodePNG(img)).write(to: URL(fileURLWithPath: folder + "/data/img\(i).png"))
        }
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    func text(_ probe: String, rvq: String = "") -> String {
        """
        name = "p"
        seed = 0
        [dataset]
        kind = "image-folder"
        path = "\(folder)/data"
        resolution = 8
        eval_images = 3
        [training]
        steps = 4
        batch = 2
        eval_every = 4
        log_every = 1
        [[tokenizer]]
        kind = "fsq"
        hidden = 8
        residual = 4
        latent_dim = 4
        codebook_size = 256
        downsamplings = 1
        \(rvq)
        \(probe)
        """
    }

    func testTheTableIsCheckedLikeAnyOther() throws {
        XCTAssertNil(try Experiment.parse(text: text("")).probe)
        let e = try Experiment.parse(text: text("[ar_probe]\nsteps = 7\nseeds = [0, 1]\n"))
        XCTAssertEqual(e.probe?.steps, 7); XCTAssertEqual(e.probe?.seeds, [0, 1]); XCTAssertEqual(e.probe?.features, ARProbeConfig().features)
        for (bad, says) in [("stepz = 7", "ar_probe.stepz: unknown key (did you mean steps?)"), ("features = 10\nheads = 4", "ar_probe.heads: must divide features (10)"),
                            ("seeds = []", "ar_probe.seeds: must be a list"), ("steps = \"a\"", "ar_probe.steps: must be an integer")] {
            XCTAssertThrowsError(try Experiment.parse(text: text("[ar_probe]\n" + bad), file: "x.toml")) { err in
                let line = String(describing: err)
                XCTAssertTrue(line.hasPrefix("x.toml:2") || line.hasPrefix("x.toml:3"), line)
                XCTAssertTrue(line.contains(says), line)
            }
        }
        XCTAssertEqual(try Experiment.probeConfig(file: nil, overrides: ["steps=9", "ar_probe.seeds=[4]"]).steps, 9)
        XCTAssertThrowsError(try Experiment.probeConfig(file: nil, overrides: ["layerz=2"]))
    }

    func testProbesAreRecordedWithTheRunAndReproducedFromItsCheckpoint() throws {
        let probe = "[ar_probe]\nfeatures = 8\nheads = 2\nlayers = 1\nsteps = 6\nbatch = 4\nwarmup = 2\neval_every = 3\nseeds = [0, 1]\nsamples = 5\n"
        // FSQ (one word per token) and RVQ of 2 stages (two words per token: T = 32, bits per token = 2 × bits per word)
        let e = try Experiment.parse(text: text(probe, rvq: "[[tokenizer]]\nkind = \"rvq\"\nhidden = 8\nresidual = 4\nlatent_dim = 4\nstages = 2\ncodebook_size = 16\ndownsamplings = 1\n"))
        // no Inception weights here (an empty weights folder), so the samples get no gFID, whatever this machine has
        try FileManager.default.createDirectory(atPath: folder + "/no-weights", withIntermediateDirectories: true)
        setenv("TOKBENCH_WEIGHTS", folder + "/no-weights", 1)
        defer { unsetenv("TOKBENCH_WEIGHTS") }
        let db = folder + "/r.sqlite"
        let store = try ResultStore(path: db)
        let runner = ExperimentRunner(store: store, artifactDir: folder + "/artifacts", cacheDir: folder + "/cache", say: { _ in })
        let ids = try runner.run(e)
        XCTAssertEqual(runner.failedRuns, 0)
        XCTAssertEqual(ids.count, 2)
        let probes = try store.probes(ofRuns: ids)[ids[0]]!
        XCTAssertEqual(probes.map(\.probe.seed), [0, 1])
        for (id, S, V) in [(ids[0], 1.0, 256.0), (ids[1], 2.0, 16.0)] { for p in try store.probes(ofRuns: ids)[id]! {
            let r = p.results
            let perWord = r[Metric.arBitsPerWord.key]!, T = 16.0 * S, bytes = 192.0   // 4×4 tokens of S words, 8×8×3 bytes
            XCTAssertEqual(r[Metric.arBitsPerToken.key]!, perWord * S, accuracy: 1e-12)
            XCTAssertEqual(r[Metric.arBPB.key]!, perWord * T / bytes, accuracy: 1e-12)
            XCTAssertGreaterThan(perWord, 0); XCTAssertLessThan(perWord, log2(V) + 1)
            XCTAssertEqual(r[Metric.arTrainImages.key], 7)
            XCTAssertNotNil(r[Metric.sampleDataBPB.key]); XCTAssertNil(r[Metric.gfid.key])   // no Inception weights found
            XCTAssertEqual(p.curves[Metric.arEvalBits.key]?.map(\.step), [3, 6])
            XCTAssertTrue(FileManager.default.fileExists(atPath: p.probe.samplesPath ?? ""))
        } }
        // after the fact: the same seed on the stored checkpoint gives the same numbers
        let session = try ProbeSession(runID: ids[0], from: nil, overrides: ["features=8", "heads=2", "layers=1", "steps=6", "batch=4", "warmup=2", "eval_every=3", "seeds=[1]", "samples=5"],
                                       db: db, artifactDir: folder + "/artifacts", cacheDir: folder + "/cache", weights: nil)
        try session.execute(say: { _ in })
        let again = try store.probes(ofRuns: ids)[ids[0]]!.first { $0.probe.seed == 1 }!
        XCTAssertNotEqual(again.probe.id, probes[1].probe.id)
        XCTAssertEqual(again.results[Metric.arBPB.key], probes[1].results[Metric.arBPB.key])
        // the report reads them
        let out = folder + "/report"
        try ReportWriter.write(try ReportData.load(store: try ResultStore(path: db, readOnly: true), experiments: ["p"], filter: nil), title: "t", to: out)
        let md = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
        XCTAssertTrue(md.contains("## AR probing") && md.contains("ar-psnr.svg") && md.contains("## Samples of the AR priors"), md)
        XCTAssertTrue(try String(contentsOfFile: out + "/budget.svg", encoding: .utf8).contains("AR prior rate"))
    }

    func testProbingARunWithoutACheckpointSaysSo() throws {
        let e = try Experiment.parse(text: text(""))
        let db = folder + "/n.sqlite"
        let ids = try ExperimentRunner(store: try ResultStore(path: db), artifactDir: nil, cacheDir: folder + "/cache", say: { _ in }).run(e)
        let s = try ProbeSession(runID: ids[0], from: nil, overrides: ["steps=2"], db: db, artifactDir: folder + "/a", cacheDir: folder + "/cache", weights: nil)
        XCTAssertThrowsError(try s.execute(say: { _ in })) { XCTAssertTrue(String(describing: $0).contains("no checkpoint artifact"), String(describing: $0)) }
        let missing = try ProbeSession(runID: 99, from: nil, overrides: [], db: db, artifactDir: folder + "/a", cacheDir: folder + "/cache", weights: nil)
        XCTAssertThrowsError(try missing.execute(say: { _ in })) { XCTAssertTrue(String(describing: $0).contains("no run 99"), String(describing: $0)) }
    }
}
