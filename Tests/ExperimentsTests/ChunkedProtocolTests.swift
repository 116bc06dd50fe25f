import XCTest
import Foundation
@testable import Experiments
import Store
import Datasets
import MetricCatalogue
import Tokenizers

/// External protocol v2 through the runner: the chunked evaluation records exactly the numbers of the
/// whole-split protocol, and a program killed half-way resumes on `run --resume` without redoing the
/// chunks already measured (their state is restored from the run's folder). Version 3 sends the AR probe's
/// train tokens too: its run is probed on exactly the words the program wrote, also after a resume.
final class ChunkedProtocolTests: XCTestCase {
    let fake = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Corpus/external/fake_tokenizer.py").path
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "tokbench-chunked-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/images", withIntermediateDirectories: true)
        var s: UInt64 = 5
        for i in 0..<13 {
            let b = ImageBatch(count: 1, channels: 3, height: 8, width: 8, pixels: (0..<192).map { j in
                s = s &* 6364136223846793005 &+ 1442695040888963407
                return UInt8(truncatingIfNeeded: (j % 8) * 25 + i * 3 + Int(s >> 60))
            })
            try Data(encodePNG(b)).write(to: URL(fileURLWithPath: dir + "/images/im\(i).png"))
        }
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func experiment(_ tokenizers: String) throws -> Experiment {
        try Experiment.parse(text: """
            name = "chunked"
            seed = 0
            [dataset]
            kind = "image-folder"
            path = "\(dir)/images"
            resolution = 8
            eval_images = 11
            \(tokenizers)
            """)
    }

    func tokenizer(_ proto: Int, extra: String = "") -> String {
        "[[tokenizer]]\nkind = \"external\"\ncommand = [\"python3\", \"\(fake)\"]\nprotocol = \(proto)\nchunk_images = 4\ntimeout_s = 60\n\(extra)\n"
    }

    /// result rows and per-image blobs of a run, without its times.
    func numbers(_ store: ResultStore, _ id: Int64) throws -> [String] {
        try store.query("SELECT key, quote(value) FROM result WHERE run_id = \(id) AND key != 'eval_seconds' ORDER BY key").rows.map { "\($0)" }
            + store.query("SELECT key, hex(data) FROM image_metric WHERE run_id = \(id) ORDER BY key").rows.map { "\($0)" }
            + store.query("SELECT value FROM param WHERE run_id = \(id) AND key = 'dataset.eval_sha256'").rows.map { "\($0)" }
    }

    func testChunkedRunRecordsTheNumbersOfTheWholeSplitRun() throws {
        let store = try ResultStore()
        let ids = try ExperimentRunner(store: store, artifactDir: dir + "/artifacts", cacheDir: dir + "/cache", say: { _ in })
            .run(try experiment(tokenizer(1) + tokenizer(2, extra: "args = { vocab = 16 }")))   // (the default V: a different run key, the same outputs)
        XCTAssertEqual(ids.count, 2)
        let v1 = try numbers(store, ids[0]), v2 = try numbers(store, ids[1])
        XCTAssertGreaterThan(v1.count, 20)
        XCTAssertEqual(v1, v2)
        XCTAssertTrue(v1.contains { $0.contains("metric_fake_lpips") })
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/artifacts/run-\(ids[1])-chunks"), "the run's folder is removed when it finishes")
    }

    func testKilledProgramResumesWithoutRedoingChunks() throws {
        let store = try ResultStore()
        let log = dir + "/chunks.log"
        let killing = tokenizer(2, extra: "args = { die-once = \"\(dir)/died\", die-at = 2, chunk-log = \"\(log)\" }")
        let runner = ExperimentRunner(store: store, artifactDir: dir + "/artifacts", cacheDir: dir + "/cache", say: { _ in })
        let first = try runner.run(try experiment(killing))
        XCTAssertEqual(runner.failedRuns, 1)
        let reason = try store.query("SELECT error FROM run WHERE id = \(first[0])").rows[0][0].description
        XCTAssertTrue(reason.contains("killed by signal 9 after 2 of 3 chunks (run --resume continues at chunk 2)"), reason)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/artifacts/run-\(first[0])-chunks/state.bin"))
        let again = try runner.run(try experiment(killing), resume: true)
        XCTAssertEqual(again, first)                       // the same run, continued
        XCTAssertEqual(runner.failedRuns, 0)
        XCTAssertEqual(try String(contentsOfFile: log, encoding: .utf8), "chunk 0\nchunk 1\nchunk 2\n")   // no chunk twice
        // The resumed run's numbers are those of an uninterrupted whole-split run.
        let whole = try ExperimentRunner(store: store, artifactDir: dir + "/artifacts", cacheDir: dir + "/cache", say: { _ in })
            .run(try experiment(tokenizer(1)))
        XCTAssertEqual(try numbers(store, first[0]), try numbers(store, whole[0]))
    }

    /// The split's data rate was being measured with the chunks when the program died; another run then
    /// measured and cached it. The resumed run drops its partial measurement and reads the cache: the same numbers.
    func testResumeAfterAnotherRunCachedTheDataRate() throws {
        let store = try ResultStore()
        let killing = tokenizer(2, extra: "args = { die-once = \"\(dir)/died\", die-at = 1 }")
        let runner = ExperimentRunner(store: store, artifactDir: dir + "/artifacts", cacheDir: dir + "/cache", say: { _ in })
        // One experiment: the v2 run dies at chunk 1 (its partial data rate saved), then the v1 run measures and
        // caches the split's rate; the resume continues the v2 run with the cached rate.
        let both = try experiment(killing + tokenizer(1))
        let first = try runner.run(both)
        XCTAssertEqual(runner.failedRuns, 1)
        let again = try runner.run(both, resume: true)
        XCTAssertEqual(again, first)
        XCTAssertEqual(runner.failedRuns, 0)
        XCTAssertEqual(try numbers(store, first[0]), try numbers(store, first[1]))
    }

    // MARK: protocol 3 (AR probing of an external program's tokens)

    let probeTable = "[ar_probe]\nfeatures = 8\nheads = 2\nlayers = 1\nsteps = 6\nbatch = 4\nwarmup = 2\neval_every = 3\nseeds = [0]\n"

    /// The closed-form words of the fake program: image n's token l is (n·L + l) mod 16, L = 4 (8×8 → 2×2).
    func fakeWords(_ n: Int) -> [UInt32] { (0..<(n * 4)).map { UInt32($0 % 16) } }

    func testV3RunIsProbedOnTheWordsItsProgramSent() throws {
        try FileManager.default.createDirectory(atPath: dir + "/no-weights", withIntermediateDirectories: true)
        setenv("TOKBENCH_WEIGHTS", dir + "/no-weights", 1)      // no Inception loaded for samples, whatever this machine has
        defer { unsetenv("TOKBENCH_WEIGHTS") }
        let db = dir + "/p.sqlite"
        let store = try ResultStore(path: db)
        var lines: [String] = []
        let runner = ExperimentRunner(store: store, artifactDir: dir + "/artifacts", cacheDir: dir + "/cache", say: { lines.append($0) })
        let ids = try runner.run(try experiment(tokenizer(3) + tokenizer(2, extra: "args = { vocab = 16 }") + probeTable + "samples = 5\n"))
        XCTAssertEqual(runner.failedRuns, 0)
        let probes = try store.probes(ofRuns: ids)
        XCTAssertNil(probes[ids[1]], "a version 2 run sends no train tokens: not probed")
        XCTAssertTrue(lines.contains { $0.contains("run \(ids[1]) is not AR probed: protocol 2 sends back no train tokens") }, lines.joined(separator: "\n"))
        let p = try XCTUnwrap(probes[ids[0]]?.first)
        let r = p.results
        XCTAssertEqual(r[Metric.arTrainImages.key], 2)                       // the 2 train images of 13 (11 eval)
        XCTAssertEqual(r[Metric.arBPB.key]!, r[Metric.arBitsPerWord.key]! * 4 / 192, accuracy: 1e-12)
        // the samples went through the program's decode request (no Inception weights here: no gFID)
        XCTAssertNotNil(r[Metric.sampleDataBPB.key]); XCTAssertNil(r[Metric.gfid.key])
        let gridPath = try XCTUnwrap(p.probe.samplesPath)
        let grid = try decodePNG(Array(try Data(contentsOf: URL(fileURLWithPath: gridPath))), path: gridPath)
        XCTAssertTrue(grid.pixels.allSatisfy { $0 % 16 == 0 }, "the fake decodes token t to 16·t")
        // the saved words are the program's, in order: 2 train then 11 eval sequences
        let path = try XCTUnwrap(try store.runs([ids[0]]).first?.artifacts["probe-words"])
        let w = try ProbeWords.read(path, evalImages: 11, maxTrain: 2)
        XCTAssertEqual(w.train.words, fakeWords(2)); XCTAssertEqual(w.eval.words, fakeWords(11))
        XCTAssertEqual([w.shape.gridRows, w.shape.gridCols, w.shape.wordsPerToken, w.shape.wordRange], [2, 2, 1, 16])
        XCTAssertTrue(try store.runs([ids[0]]).first?.params["tokenizer.directory"]?.hasPrefix("/") == true, "where the program ran, for probe --run")
        // later, from the artifact: the same seed gives the same numbers
        try ProbeSession(runID: ids[0], from: nil, overrides: ["features=8", "heads=2", "layers=1", "steps=6", "batch=4", "warmup=2", "eval_every=3", "seeds=[0]"],
                         db: db, artifactDir: dir + "/artifacts", cacheDir: dir + "/cache", weights: nil).execute(say: { _ in })
        let again = try store.probes(ofRuns: [ids[0]])[ids[0]]!.first!
        XCTAssertNotEqual(again.probe.id, p.probe.id)
        XCTAssertEqual(again.results[Metric.arBPB.key], r[Metric.arBPB.key])
    }

    func testV3ProgramKilledHalfWayResumesWithTheEvalWordsOnce() throws {
        let store = try ResultStore()
        let killing = tokenizer(3, extra: "args = { die-once = \"\(dir)/died\", die-at = 2 }")
        let runner = ExperimentRunner(store: store, artifactDir: dir + "/artifacts", cacheDir: dir + "/cache", say: { _ in })
        let first = try runner.run(try experiment(killing + probeTable))
        XCTAssertEqual(runner.failedRuns, 1)
        XCTAssertNil(try store.probes(ofRuns: first)[first[0]])
        let again = try runner.run(try experiment(killing + probeTable), resume: true)
        XCTAssertEqual(again, first); XCTAssertEqual(runner.failedRuns, 0)
        let w = try ProbeWords.read(try XCTUnwrap(try store.runs(first).first?.artifacts["probe-words"]), evalImages: 11, maxTrain: 2)
        XCTAssertEqual(w.eval.words, fakeWords(11), "the chunks before the kill and after the resume, each once")
        XCTAssertNotNil(try store.probes(ofRuns: first)[first[0]]?.first)
    }

    /// Killed after its last chunk, before its train tokens: the resume runs the program once more for them alone.
    func testV3ProgramKilledBeforeItsTrainTokensIsAskedForThemOnResume() throws {
        let store = try ResultStore()
        let log = dir + "/chunks.log"
        let killing = tokenizer(3, extra: "args = { die-once = \"\(dir)/died\", die-at = 3, chunk-log = \"\(log)\" }")   // 11 images, 3 chunks of 4
        let runner = ExperimentRunner(store: store, artifactDir: dir + "/artifacts", cacheDir: dir + "/cache", say: { _ in })
        let first = try runner.run(try experiment(killing + probeTable))
        XCTAssertEqual(runner.failedRuns, 1)
        let again = try runner.run(try experiment(killing + probeTable), resume: true)
        XCTAssertEqual(again, first); XCTAssertEqual(runner.failedRuns, 0)
        XCTAssertEqual(try String(contentsOfFile: log, encoding: .utf8), "chunk 0\nchunk 1\nchunk 2\nencoded 2\n")   // no chunk twice
        let w = try ProbeWords.read(try XCTUnwrap(try store.runs(first).first?.artifacts["probe-words"]), evalImages: 11, maxTrain: 2)
        XCTAssertEqual(w.train.words, fakeWords(2)); XCTAssertEqual(w.eval.words, fakeWords(11))
        XCTAssertNotNil(try store.probes(ofRuns: first)[first[0]]?.first)
    }

    /// The words spool beside state.bin is no more trusted than the program: a word past V fails the probe in one line.
    func testATamperedWordsSpoolFailsTheProbeNotTheRun() throws {
        let store = try ResultStore()
        var lines: [String] = []
        let killing = tokenizer(3, extra: "args = { die-once = \"\(dir)/died\", die-at = 2 }")
        let runner = ExperimentRunner(store: store, artifactDir: dir + "/artifacts", cacheDir: dir + "/cache", say: { lines.append($0) })
        let first = try runner.run(try experiment(killing + probeTable))
        let spool = dir + "/artifacts/run-\(first[0])-chunks/eval-words.u32"
        let h = try XCTUnwrap(FileHandle(forWritingAtPath: spool))
        try h.write(contentsOf: Data([0xFF, 0xFF, 0xFF, 0x7F])); try h.close()
        _ = try runner.run(try experiment(killing + probeTable), resume: true)
        XCTAssertEqual(runner.failedRuns, 1)
        XCTAssertEqual(try store.query("SELECT status FROM run WHERE id = \(first[0])").rows[0][0].description, "finished")
        XCTAssertTrue(lines.contains { $0.contains("AR probe of run \(first[0]) failed") && $0.contains("is not below V = 16") }, lines.joined(separator: "\n"))
    }

    /// A program whose tokens change shape between chunks fails the run in one line, before any accumulator sees them.
    func testTokensThatChangeShapeBetweenChunksFailInOneLine() throws {
        let store = try ResultStore()
        let runner = ExperimentRunner(store: store, artifactDir: dir + "/artifacts", cacheDir: dir + "/cache", say: { _ in })
        let ids = try runner.run(try experiment(tokenizer(2, extra: "args = { mode = \"grow\" }")))
        XCTAssertEqual(runner.failedRuns, 1)
        let reason = try store.query("SELECT error FROM run WHERE id = \(ids[0])").rows[0][0].description
        XCTAssertTrue(reason.contains("out-00001.npz") && reason.contains("the earlier chunks'") && !reason.contains("\n"), reason)
    }

    func testABadDecodeCostsTheSamplesNotTheARRate() throws {
        try FileManager.default.createDirectory(atPath: dir + "/no-weights", withIntermediateDirectories: true)
        setenv("TOKBENCH_WEIGHTS", dir + "/no-weights", 1)
        defer { unsetenv("TOKBENCH_WEIGHTS") }
        let store = try ResultStore()
        var lines: [String] = []
        let runner = ExperimentRunner(store: store, artifactDir: dir + "/artifacts", cacheDir: dir + "/cache", say: { lines.append($0) })
        let ids = try runner.run(try experiment(tokenizer(3, extra: "args = { mode = \"decode-shape\" }") + probeTable + "samples = 3\n"))
        XCTAssertEqual(runner.failedRuns, 1)
        XCTAssertEqual(try store.query("SELECT status FROM run WHERE id = \(ids[0])").rows[0][0].description, "finished")
        // the AR rate is kept, the samples' numbers are not; the reason is one line
        let p = try XCTUnwrap(try store.probes(ofRuns: ids)[ids[0]]?.first)
        XCTAssertNotNil(p.results[Metric.arBPB.key]); XCTAssertNil(p.results[Metric.sampleDataBPB.key]); XCTAssertNil(p.probe.samplesPath)
        let line = try XCTUnwrap(lines.first { $0.contains("samples were not decoded") })
        XCTAssertTrue(line.contains("decode-out.npz 'reconstructions' has shape [3, 7, 8, 3], expected [3, 8, 8, 3]"), line)
    }

    func testV3ProgramThatSendsNoTrainTokensFailsTheProbeNotTheRun() throws {
        let store = try ResultStore()
        var lines: [String] = []
        let runner = ExperimentRunner(store: store, artifactDir: dir + "/artifacts", cacheDir: dir + "/cache", say: { lines.append($0) })
        let ids = try runner.run(try experiment(tokenizer(3, extra: "args = { mode = \"no-encode\" }") + probeTable))
        XCTAssertEqual(runner.failedRuns, 1)
        XCTAssertEqual(try store.query("SELECT status FROM run WHERE id = \(ids[0])").rows[0][0].description, "finished")
        XCTAssertTrue(lines.contains { $0.contains("AR probe of run \(ids[0]) failed") && $0.contains("wrote no encode-out.npz") }, lines.joined(separator: "\n"))
    }

    /// A probe-words file is read as hostile: each defect is one line naming the file.
    func testProbeWordsFileDefectsAreOneLine() throws {
        let shape = Tokens(count: 0, gridRows: 2, gridCols: 2, wordsPerToken: 1, wordRange: 16, words: [])
        let good = dir + "/w.bin"
        try ProbeWords(train: fakeWords(2), trainCount: 2, eval: fakeWords(3), evalCount: 3, shape: shape, encodeSeconds: 0).write(to: good)
        XCTAssertEqual(try ProbeWords.read(good, evalImages: 3, maxTrain: 2).eval.words, fakeWords(3))
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: good)))
        var highWord = bytes; highWord[bytes.count - 4] = 16                       // a word not below V
        var hugeV = bytes; hugeV[8 + 5] = 0x7F                                     // V = 2^47-ish
        for (name, b, says) in [("short", Array(bytes.dropLast(4)), "bytes, the header declares"), ("magic", [0x41] + bytes.dropFirst(), "no TBWORDS1 header"),
                                ("word", highWord, "is not below V = 16"), ("v", hugeV, "out of range"), ("tiny", Array(bytes.prefix(10)), "10 bytes")] {
            let p = dir + "/\(name).bin"
            try Data(b).write(to: URL(fileURLWithPath: p))
            XCTAssertThrowsError(try ProbeWords.read(p, evalImages: 3, maxTrain: 2)) { e in
                let m = String(describing: e)
                XCTAssertTrue(m.contains(p) && m.contains(says) && !m.contains("\n"), "\(name): \(m)")
            }
        }
        XCTAssertThrowsError(try ProbeWords.read(good, evalImages: 4, maxTrain: 2))   // another dataset's
    }

    /// `tokbench run` leaves its database whole in the .sqlite file (the WAL checkpointed), also when runs failed:
    /// a plain copy of the file alone holds every run.
    func testARunSessionLeavesEveryRecordInTheDatabaseFile() throws {
        let file = dir + "/session.toml", db = dir + "/session.sqlite"
        let text = """
            name = "session"
            [dataset]
            kind = "image-folder"
            path = "\(dir)/images"
            resolution = 8
            eval_images = 11
            \(tokenizer(1, extra: "[tokenizer.args]\nmode = [\"ok\", \"exit\"]"))
            """
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let session = try RunSession(files: [file], overrides: [], resume: false, dryRun: false, db: db, shard: nil, killAfterCheckpoint: nil, say: { _ in })
        XCTAssertThrowsError(try session.execute(say: { _ in })) { XCTAssertTrue(String(describing: $0).contains("1 of 2 runs failed"), String(describing: $0)) }
        let copy = dir + "/copy.sqlite"
        try FileManager.default.copyItem(atPath: db, toPath: copy)      // the file alone, without its -wal
        let runs = try ResultStore(path: copy, readOnly: true).query("SELECT status FROM run ORDER BY id").rows.map { $0[0].description }
        XCTAssertEqual(runs, ["finished", "failed"])
    }
}
