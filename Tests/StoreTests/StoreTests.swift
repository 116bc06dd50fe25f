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

    /// A shard database file with one experiment and the given runs (label, psnr).
    func shard(_ path: String, _ runs: [(String, Double)], status: RunStatus = .finished, first: Int = 0) throws {
        let store = try ResultStore(path: path)
        let e = try store.createExperiment(name: "sweep", file: "sweep.toml", fileSHA256: "abc")
        for (i, (key, psnr)) in runs.enumerated() {
            let id = try store.beginRun(NewRun(experimentID: e, runKey: key, tokenizer: "vq-vae", label: key, dataset: "d", configJSON: "{}", seed: 0,
                                               codeVersion: "x"), params: [("plan.index", String(first + i)), ("dataset.eval_sha256", "f")])
            try store.recordMetrics(runID: id, step: 10, [(.loss, psnr / 100)])
            if status == .finished {
                try store.finishRun(runID: id, results: [(.psnr, psnr), (.trainSeconds, Double.random(in: 1...9))], perImage: [(.psnr, [psnr, psnr + 1])],
                                    artifacts: [("recon", "results/shards/artifacts/sweep-0/run-\(id)-recon.png")])
            } else if status == .failed {
                try store.failRun(runID: id, reason: "boom")
            }
        }
        try store.saveDataRate(key: "split", coder: "png", bits: 800, bytes: 100, images: 2, seconds: 0.1, codeVersion: "x")
    }

    func testMergeIsIdempotentKeepsEverythingAndRefusesConflicts() throws {
        let dir = NSTemporaryDirectory() + "tokbench-merge-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try shard(dir + "/a.sqlite", [("k1 seed=0", 20), ("k2 seed=0", 21)])
        try shard(dir + "/b.sqlite", [("k3 seed=0", 22)], first: 2)
        let out = try ResultStore(path: dir + "/out.sqlite")
        var s = try out.merge(shards: [dir + "/a.sqlite", dir + "/b.sqlite"])
        XCTAssertEqual(s.added, 3); XCTAssertEqual(s.dataRates, 1)
        XCTAssertEqual(try out.query("SELECT count(*) FROM experiment").rows, [[.integer(1)]])
        XCTAssertEqual(try out.query("SELECT run_key FROM run ORDER BY id").rows, [[.text("k1 seed=0")], [.text("k2 seed=0")], [.text("k3 seed=0")]])
        XCTAssertEqual(try out.query("SELECT count(*) FROM metric").rows, [[.integer(3)]])
        XCTAssertEqual(try out.query("SELECT count(*) FROM artifact").rows, [[.integer(3)]])
        let k3 = try out.query("SELECT id FROM run WHERE run_key = 'k3 seed=0'").rows[0][0].description
        XCTAssertEqual(try out.imageValues(runID: Int64(k3)!, metric: .psnr), [22, 23])
        // Merging the same shards again adds nothing (the wall times differ between any two runs and do not count).
        s = try out.merge(shards: [dir + "/b.sqlite", dir + "/a.sqlite"])
        XCTAssertEqual(s.added, 0); XCTAssertEqual(s.identical, 3); XCTAssertEqual(s.dataRates, 0)
        XCTAssertEqual(try out.query("SELECT count(*) FROM run").rows, [[.integer(3)]])
        // A shard with the same run key and another result is a conflict naming both files and the run; nothing is written.
        try shard(dir + "/c.sqlite", [("k4 seed=0", 30), ("k2 seed=0", 21.5)])
        XCTAssertThrowsError(try out.merge(shards: [dir + "/c.sqlite"])) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains("merge conflict") && m.contains("k2 seed=0") && m.contains("c.sqlite") && m.contains("out.sqlite") && m.contains("psnr"), m)
        }
        XCTAssertEqual(try out.query("SELECT count(*) FROM run").rows, [[.integer(3)]])   // k4 was not added either
        // Within one merge, the conflict names the two shards.
        let out2 = try ResultStore(path: dir + "/out2.sqlite")
        XCTAssertThrowsError(try out2.merge(shards: [dir + "/a.sqlite", dir + "/c.sqlite"])) { e in
            XCTAssertTrue("\(e)".contains("a.sqlite") && "\(e)".contains("c.sqlite"), "\(e)")
        }
        XCTAssertEqual(try out2.query("SELECT count(*) FROM run").rows, [[.integer(0)]])
        // Unfinished runs of a shard are not results: listed, not merged.
        try shard(dir + "/d.sqlite", [("k5 seed=0", 1)], status: .running)
        s = try out.merge(shards: [dir + "/d.sqlite"])
        XCTAssertEqual(s.added, 0); XCTAssertEqual(s.skipped.count, 1)
        XCTAssertThrowsError(try out.merge(shards: [dir + "/missing.sqlite"]))
    }

    /// A run's AR probes: recorded with their curve and results, failed ones left out of reads, the latest settings
    /// only; merge carries them with their run, and a probe added to a shard after an earlier merge arrives on the next.
    func testProbesAreReadMergedAndAddedLater() throws {
        let dir = NSTemporaryDirectory() + "tokbench-probes-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try shard(dir + "/a.sqlite", [("k1 seed=0", 20)])
        let a = try ResultStore(path: dir + "/a.sqlite")
        let run = Int64(try a.query("SELECT id FROM run").rows[0][0].description)!
        func probe(_ seed: UInt64, _ config: String, _ bpb: Double, fail: Bool = false) throws {
            let id = try a.beginProbe(runID: run, seed: seed, configJSON: config, codeVersion: "x")
            try a.recordProbeMetrics(probeID: id, step: 10, [(.arEvalBits, bpb * 10)])
            if fail { try a.failProbe(probeID: id, reason: "boom") } else { try a.finishProbe(probeID: id, results: [(.arBPB, bpb)], samplesPath: nil) }
        }
        try probe(0, "{}", 0.5); try probe(1, "{}", 0.6); try probe(2, "{}", 0.1, fail: true)
        var read = try a.probes(ofRuns: [run])[run]!
        XCTAssertEqual(read.map(\.probe.seed), [0, 1])
        XCTAssertEqual(read.map { $0.results[Metric.arBPB.key]! }, [0.5, 0.6])
        XCTAssertEqual(read[0].curves[Metric.arEvalBits.key]!.map(\.value), [5])
        XCTAssertThrowsError(try a.beginProbe(runID: 999, seed: 0, configJSON: "{}", codeVersion: "x"))
        let out = try ResultStore(path: dir + "/out.sqlite")
        _ = try out.merge(shards: [dir + "/a.sqlite"])
        let merged = Int64(try out.query("SELECT id FROM run").rows[0][0].description)!
        XCTAssertEqual(try out.probes(ofRuns: [merged])[merged]!.map { $0.results[Metric.arBPB.key]! }, [0.5, 0.6])
        // probed again later with other settings: reads keep to the latest settings, and the next merge brings it
        try probe(0, "{\"steps\":9}", 0.4)
        read = try a.probes(ofRuns: [run])[run]!
        XCTAssertEqual(read.map { $0.results[Metric.arBPB.key]! }, [0.4])
        let s = try out.merge(shards: [dir + "/a.sqlite"])
        XCTAssertEqual(s.identical, 1)
        XCTAssertEqual(try out.probes(ofRuns: [merged])[merged]!.map { $0.results[Metric.arBPB.key]! }, [0.4])
        XCTAssertEqual(try out.query("SELECT count(*) FROM probe").rows, [[.integer(3)]])   // the failed one stays in its shard
        _ = try out.merge(shards: [dir + "/a.sqlite"])
        XCTAssertEqual(try out.query("SELECT count(*) FROM probe").rows, [[.integer(3)]])   // merging again adds nothing
    }

    func testAStaleHeartbeatFromAnotherHostIsInterruptedALiveOneIsNot() throws {
        let store = try ResultStore()
        let e = try store.createExperiment(name: "e", file: "f", fileSHA256: "0")
        let stale = try newRun(store, e, key: "stale"), live = try newRun(store, e, key: "live"), mine = try newRun(store, e, key: "mine")
        try store.db.write { db in
            try db.execute(sql: "UPDATE run SET host = 'node-17', pid = 4242 WHERE id IN (?, ?)", arguments: [stale, live])
        }
        let now = Date()
        try store.heartbeat(runID: stale, at: now.addingTimeInterval(-600))
        try store.heartbeat(runID: live, at: now.addingTimeInterval(-20))
        try store.heartbeat(runID: mine, at: now.addingTimeInterval(-600))   // this process: never touched
        XCTAssertEqual(try store.markInterruptedRuns(staleAfter: 180, now: now), 1)
        let status = try store.query("SELECT run_key, status FROM run ORDER BY id").rows
        XCTAssertEqual(status, [[.text("stale"), .text("interrupted")], [.text("live"), .text("running")], [.text("mine"), .text("running")]])
        XCTAssertTrue(try store.query("SELECT error FROM run WHERE run_key = 'stale'").rows[0][0].description.contains("no heartbeat since"))
    }

    func testAZombieProcessCountsAsDead() throws {
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
        defer { for a in argv { free(a) } }
        XCTAssertEqual(posix_spawn(&pid, "/bin/true", nil, nil, argv, environ), 0)
        // Not reaped yet: once it exits it is a zombie, which kill(pid, 0) still reports as existing.
        var zombie = false
        for _ in 0..<200 {
            if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), stat.contains(") Z") { zombie = true; break }
            usleep(10_000)
        }
        XCTAssertTrue(zombie)
        XCTAssertEqual(kill(pid, 0), 0)
        XCTAssertFalse(ResultStore.processAlive(pid))
        XCTAssertTrue(ResultStore.processAlive(getpid()))
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        XCTAssertFalse(ResultStore.processAlive(pid))
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

    /// Shards started at once on one database (`run --shard K/N --resume --db shared.sqlite`) agree on one
    /// experiment: eight stores (eight connections, as eight processes would have) asking at the same
    /// moment get the same id, and the database holds one experiment of that name.
    func testConcurrentGetOrCreateMakesOneExperiment() throws {
        let path = NSTemporaryDirectory() + "tokbench-store-\(UUID().uuidString).sqlite"
        defer { for s in ["", "-wal", "-shm", ".lock"] { try? FileManager.default.removeItem(atPath: path + s) } }
        let stores = try (0..<8).map { _ in try ResultStore(path: path) }
        var ids = [Int64](repeating: -1, count: stores.count)
        ids.withUnsafeMutableBufferPointer { out in
            let o = out.baseAddress!
            DispatchQueue.concurrentPerform(iterations: stores.count) { i in
                o[i] = (try? stores[i].experimentID(named: "sweep", file: "sweep.toml", fileSHA256: "0")) ?? -2
            }
        }
        XCTAssertEqual(Set(ids), [ids[0]])
        XCTAssertGreaterThan(ids[0], 0)
        XCTAssertEqual(try stores[0].experimentID(named: "sweep", file: "other.toml", fileSHA256: "1"), ids[0])   // the latest of the name
        let count = try ResultStore(path: path).query("select count(*) as n from experiment where name = 'sweep'").rows
        XCTAssertEqual(count.first?.first?.description, "1")
    }

    func tempDB() -> String { NSTemporaryDirectory() + "tokbench-store-\(UUID().uuidString).sqlite" }
    func removeDB(_ path: String) { for s in ["", "-wal", "-shm", ".lock"] { try? FileManager.default.removeItem(atPath: path + s) } }
    func new(_ exp: Int64, _ key: String) -> NewRun {
        NewRun(experimentID: exp, runKey: key, tokenizer: "raw-patch", label: "raw-patch(bits=8)", dataset: "fashion-mnist", configJSON: "{}", seed: 0, codeVersion: "abc")
    }

    /// Eight stores claiming the same eight run keys at once: each key is claimed exactly once; the
    /// others see it busy (a live claim of this process's pid counts as another's here: a different
    /// store is a different claimant only by host and pid, so the test fakes the pid of the first claim).
    func testClaimsAreAtomic() throws {
        let path = tempDB(); defer { removeDB(path) }
        let stores = try (0..<8).map { _ in try ResultStore(path: path) }
        let exp = try stores[0].experimentID(named: "e", file: "f", fileSHA256: "0")
        var claimed = [Int](repeating: 0, count: 8)
        claimed.withUnsafeMutableBufferPointer { out in
            let o = out.baseAddress!
            DispatchQueue.concurrentPerform(iterations: 8) { i in
                var n = 0
                for k in 0..<8 {
                    if case .claimed(_, _, false)? = try? stores[i].claimRun(new(exp, "k\(k)"), params: []) { n += 1 }
                }
                o[i] = n
            }
        }
        // Claims made by this pid are ours; a second claim of the same key by the same process would re-take
        // it (resumed: true), so count fresh claims only: every key was inserted exactly once.
        XCTAssertEqual(claimed.reduce(0, +), 8)
        XCTAssertEqual(try stores[0].query("select count(*) from run").rows, [[.integer(8)]])
        // Another live process's claim (pid 1 is alive on this host) is busy; a dead one's is taken up again.
        try stores[0].write { db in try db.execute(sql: "UPDATE run SET pid = 1 WHERE run_key = 'k0'") }
        guard case .busy = try stores[1].claimRun(new(exp, "k0"), params: []) else { return XCTFail("a live claim was taken") }
        try stores[0].write { db in try db.execute(sql: "UPDATE run SET pid = 999999999 WHERE run_key = 'k1'") }
        guard case .claimed(_, nil, true) = try stores[1].claimRun(new(exp, "k1"), params: []) else { return XCTFail("a dead claim was not taken up") }
        guard case .integer(let k2)? = try stores[0].query("select id from run where run_key = 'k2'").rows.first?.first else { return XCTFail("no k2") }
        try stores[0].finishRun(runID: k2, results: [])
        guard case .finished = try stores[1].claimRun(new(exp, "k2"), params: []) else { return XCTFail("a finished run was claimed") }
    }

    /// A database with a migration this build does not know is refused by every open, and not modified.
    func testNewerDatabaseIsRefusedUntouched() throws {
        let path = tempDB(); defer { removeDB(path) }
        do { let s = try ResultStore(path: path); _ = try newRun(s, try s.createExperiment(name: "e", file: "f", fileSHA256: "0")) }
        let q = try DatabaseQueue(path: path)
        try q.write { try $0.execute(sql: "INSERT INTO grdb_migrations VALUES ('v99-from-the-future')") }
        try q.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        for readOnly in [false, true] {
            XCTAssertThrowsError(try ResultStore(path: path, readOnly: readOnly)) { e in
                XCTAssertTrue("\(e)".contains("written by a newer tokbench (migration v99-from-the-future unknown"), "\(e)")
            }
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before)
    }

    /// Read-only opens never write: an outdated summary view is shadowed by a temporary one, the file
    /// keeps its own; writes are refused.
    func testReadOnlyOpenNeverWrites() throws {
        let path = tempDB(); defer { removeDB(path) }
        do {
            let s = try ResultStore(path: path)
            let r = try newRun(s, try s.createExperiment(name: "e", file: "f", fileSHA256: "0"))
            try s.finishRun(runID: r, results: [(.psnr, 30)])
        }
        let q = try DatabaseQueue(path: path)
        try q.write { try $0.execute(sql: "DROP VIEW summary_by_config; DROP VIEW summary; CREATE VIEW summary AS SELECT 1 AS old") }
        try q.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let ro = try ResultStore(path: path, readOnly: true)
        XCTAssertEqual(try ro.summary().rows.first?[ro.summary().columns.firstIndex(of: "psnr")!], .real(30))
        XCTAssertThrowsError(try ro.createExperiment(name: "x", file: "f", fileSHA256: "0"))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before)
    }

    /// An unknown status is an error naming the run, not a silent `failed`.
    func testUnknownStatusIsAnError() throws {
        var r = RunRecord(id: 7, experimentID: 1, runKey: "k", tokenizer: "t", label: "l", dataset: "d", configJSON: "{}", seed: 0, status: "paused",
                          error: nil, startedAt: "", finishedAt: nil, codeVersion: "", host: "", pid: 0, heartbeatAt: nil)
        XCTAssertThrowsError(try r.checkedStatus()) { XCTAssertEqual("\($0)", "run 7 has status 'paused', which this tokbench does not know") }
        r.status = "finished"
        XCTAssertEqual(try r.checkedStatus(), .finished)
    }
}
