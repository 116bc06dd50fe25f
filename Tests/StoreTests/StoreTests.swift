import XCTest
@testable import Store
import MetricCatalogue
import GRDB

final class StoreTests: XCTestCase {
    func newRun(_ store: ResultStore, _ exp: Int64, key: String = "k") throws -> Int64 {
        try store.beginRun(NewRun(experimentID: exp, runKey: key, tokenizer: "raw-patch", label: "raw-patch(bits=8)", dataset: "fashion-mnist",
                                  configJSON: "{}", seed: 3, codeVersion: "abc"), params: [("tokenizer.bits", "8")])
    }

    func testRoundTripInMemory() throws {
        let store = try ResultStore()
        let exp = try store.createExperiment(name: "e", file: "e.toml", fileSHA256: "00")
        let run = try newRun(store, exp)
        try store.recordMetrics(runID: run, step: 10, [(.loss, 0.5), (.evalUsage, 0.9)])
        try store.recordMetrics(runID: run, step: 20, [(.loss, 0.25)])
        var s = try store.summary()
        XCTAssertEqual(s.rows.count, 1)
        XCTAssertEqual(s.rows[0][s.columns.firstIndex(of: "status")!], .text("running"))
        try store.finishRun(runID: run, results: [(.psnr, .infinity), (.capacityBPB, 8), (.tokensPerImage, 49)],
                            artifacts: [("checkpoint", "x.safetensors")])
        s = try store.summary(experiment: "e")
        let row = Dictionary(uniqueKeysWithValues: zip(s.columns, s.rows[0]))
        XCTAssertEqual(row["status"], .text("finished"))
        XCTAssertEqual(row["psnr"], .real(.infinity))
        XCTAssertEqual(row["capacity_bpb"], .real(8))
        XCTAssertEqual(row["L"], .real(49))
        XCTAssertEqual(row["seed"], .integer(3))
        XCTAssertEqual(try store.query("SELECT step, value FROM metric WHERE key = 'loss' ORDER BY step").rows,
                       [[.integer(10), .real(0.5)], [.integer(20), .real(0.25)]])
        XCTAssertEqual(try store.query("SELECT value FROM param WHERE run_id = ? AND key = 'tokenizer.bits'", arguments: [String(run)]).rows, [[.text("8")]])
        XCTAssertEqual(try store.query("SELECT path FROM artifact").rows, [[.text("x.safetensors")]])
        XCTAssertEqual(try store.integrityCheck(), "ok")
    }

    func testFailedRunKeepsReason() throws {
        let store = try ResultStore()
        let run = try newRun(store, try store.createExperiment(name: "e", file: "f", fileSHA256: "0"))
        try store.failRun(runID: run, reason: "loss is NaN at step 7")
        XCTAssertEqual(try store.query("SELECT status, error FROM run").rows, [[.text("failed"), .text("loss is NaN at step 7")]])
    }

    func testQueryRejectsWritesAndReportsSQLErrors() throws {
        let store = try ResultStore()
        XCTAssertThrowsError(try store.query("DELETE FROM run"))
        XCTAssertThrowsError(try store.query("SELECT nope FROM run")) { e in
            XCTAssertTrue(String(describing: e).contains("no such column"), String(describing: e))
        }
    }

    func testSummaryViewFollowsTheCatalogue() throws {
        let store = try ResultStore()
        let columns = try store.summary().columns
        // Every catalogue metric with a summary column is a column, in catalogue order.
        let expected = Metric.results.compactMap(\.summaryColumn)
        XCTAssertEqual(columns.filter { expected.contains($0) }, expected)
        XCTAssertEqual(expected, ["L", "log2V", "capacity_bpb", "token_rate_bpb", "data_bpb", "deficit_bpb", "psnr", "ssim", "lossless", "usage",
                                  "perplexity", "train_seconds"])
        XCTAssertTrue(columns.contains("blas_core"))
    }

    func testAnOutdatedSummaryViewIsRecreatedOnOpen() throws {
        let path = NSTemporaryDirectory() + "tokbench-view-\(UUID().uuidString).sqlite"
        defer { for s in ["", "-wal", "-shm", ".lock"] { try? FileManager.default.removeItem(atPath: path + s) } }
        _ = try ResultStore(path: path)
        // An older tokbench's view (fewer columns), as a database written before a catalogue change has.
        let q = try DatabaseQueue(path: path)
        try q.write { try $0.execute(sql: "DROP VIEW summary; CREATE VIEW summary AS SELECT id AS run_id FROM run") }
        try q.close()
        XCTAssertTrue(try ResultStore(path: path).summary().columns.contains("psnr"))
    }

    func testFileDatabaseUsesWALAndReopens() throws {
        let path = NSTemporaryDirectory() + "tokbench-store-\(UUID().uuidString).sqlite"
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
        do {
            let store = try ResultStore(path: path)
            _ = try newRun(store, try store.createExperiment(name: "e", file: "f", fileSHA256: "0"))
        }
        let again = try ResultStore(path: path)   // migrations already applied: no error
        XCTAssertEqual(try again.journalMode(), "wal")
        XCTAssertEqual(try again.summary().rows.count, 1)
    }
}
