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

    func testPerImageValuesRoundTripExactlyAndDamageIsReported() throws {
        let store = try ResultStore()
        let run = try newRun(store, try store.createExperiment(name: "e", file: "f", fileSHA256: "0"))
        let values: [Double] = [48.130803608679, 28.13, -0.0, 1e-300, 60.0]
        try store.finishRun(runID: run, results: [(.psnr, 32.9)], perImage: [(.psnr, values), (.ssim, [0.5, 0.25, 1, 0, 0.75])])
        XCTAssertEqual(try store.imageValues(runID: run, metric: .psnr), values)       // bit-exact float64
        XCTAssertEqual(try store.imageValues(runID: run, metric: .ssim), [0.5, 0.25, 1, 0, 0.75])
        XCTAssertNil(try store.imageValues(runID: run, metric: .mse))
        XCTAssertEqual(try store.query("SELECT count, length(data) FROM image_metric WHERE key = 'psnr'").rows, [[.integer(5), .integer(40)]])
        try store.db.write { try $0.execute(sql: "UPDATE image_metric SET data = substr(data, 1, 12) WHERE key = 'ssim'") }
        XCTAssertThrowsError(try store.imageValues(runID: run, metric: .ssim)) { e in
            XCTAssertTrue("\(e)".contains("per-image ssim values are damaged"), "\(e)")
        }
    }

    func testSummaryByConfigAggregatesSeedsByHand() throws {
        let store = try ResultStore()
        let exp = try store.createExperiment(name: "e", file: "f", fileSHA256: "0")
        // Config A at seeds 0, 1, 2 with PSNR 20, 21, 23 (mean 21.333…, s² = (1.777…+0.111…+2.777…)/2 = 2.333…);
        // config B at one seed (std null); one failed run of A that must not count.
        for (seed, psnr) in [(0, 20.0), (1, 21.0), (2, 23.0)] {
            let id = try store.beginRun(NewRun(experimentID: exp, runKey: "a seed=\(seed)", tokenizer: "vq-vae", label: "vq-vae(k=1)", dataset: "d",
                                               configJSON: "{}", seed: UInt64(seed), codeVersion: "x"), params: [])
            try store.finishRun(runID: id, results: [(.psnr, psnr), (.tokensPerImage, 49)])
        }
        let failed = try store.beginRun(NewRun(experimentID: exp, runKey: "a seed=3", tokenizer: "vq-vae", label: "vq-vae(k=1)", dataset: "d",
                                               configJSON: "{}", seed: 3, codeVersion: "x"), params: [])
        try store.failRun(runID: failed, reason: "NaN")
        let b = try store.beginRun(NewRun(experimentID: exp, runKey: "b seed=0", tokenizer: "fsq", label: "fsq(k=2)", dataset: "d",
                                          configJSON: "{}", seed: 0, codeVersion: "x"), params: [])
        try store.finishRun(runID: b, results: [(.psnr, 19.5)])
        let r = try store.summaryByConfig(experiment: "e")
        XCTAssertEqual(r.rows.count, 2)
        let a = Dictionary(uniqueKeysWithValues: zip(r.columns, r.rows[0]))
        XCTAssertEqual(a["label"], .text("vq-vae(k=1)"))
        XCTAssertEqual(a["n"], .integer(3))
        XCTAssertEqual(a["seeds"], .text("0,1,2"))
        guard case .real(let mean) = a["psnr"], case .real(let std) = a["psnr_std"] else { return XCTFail("\(a)") }
        XCTAssertEqual(mean, 64.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(std, (7.0 / 3).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(a["L_std"], .real(0))
        let one = Dictionary(uniqueKeysWithValues: zip(r.columns, r.rows[1]))
        XCTAssertEqual(one["n"], .integer(1))
        XCTAssertEqual(one["psnr"], .real(19.5))
        XCTAssertEqual(one["psnr_std"], .null)
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
                                  "perplexity", "train_seconds", "psnr_ci95"])
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
