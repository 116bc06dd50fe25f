import XCTest
import Foundation
@testable import Experiments
import Store
import Datasets

/// External protocol v2 through the runner: the chunked evaluation records exactly the numbers of the
/// whole-split protocol, and a program killed half-way resumes on `run --resume` without redoing the
/// chunks already measured (their state is restored from the run's folder).
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
}
