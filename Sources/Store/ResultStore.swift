import Foundation
import GRDB
import MetricCatalogue

/// The results database. One writer per process; WAL lets several processes share the file.
/// Every write is a transaction: a run is `running` until its final results commit with it.
public final class ResultStore: @unchecked Sendable {
    let db: any DatabaseWriter
    public let path: String

    /// Opens (creating if needed, unless `mustExist`) the database file and applies pending migrations.
    public init(path: String, mustExist: Bool = false) throws {
        self.path = path
        if mustExist && !FileManager.default.fileExists(atPath: path) {
            throw StoreError("\(path): no results database here (run an experiment first, or pass --db)")
        }
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        var config = Configuration()
        config.busyMode = .timeout(60)
        config.foreignKeysEnabled = true
        // Opening (WAL switch) and migrating happen under an exclusive file lock, so several
        // processes starting on a new database at once apply the migrations exactly once.
        let lock = open(path + ".lock", O_CREAT | O_RDWR, 0o644)
        if lock >= 0 { flock(lock, LOCK_EX) }
        defer { if lock >= 0 { flock(lock, LOCK_UN); close(lock) } }
        do {
            db = try DatabasePool(path: path, configuration: config)  // WAL mode
            try Migrations.migrator.migrate(db)
            try db.write { try SummaryView.ensure($0) }
        } catch let e as DatabaseError {
            throw StoreError("\(path): \(e.message ?? e.description)")
        }
    }

    /// An in-memory database (tests).
    public init() throws {
        path = ":memory:"
        db = try DatabaseQueue()
        try Migrations.migrator.migrate(db)
        try db.write { try SummaryView.ensure($0) }
    }

    public func createExperiment(name: String, file: String, fileSHA256: String) throws -> Int64 {
        try write { db in
            try db.execute(sql: "INSERT INTO experiment (name, file, file_sha256, created_at) VALUES (?, ?, ?, ?)",
                           arguments: [name, file, fileSHA256, Self.now()])
            return db.lastInsertedRowID
        }
    }

    /// Records the definitions that give results their meaning (latest text wins).
    public func recordDefinitions(_ metrics: [Metric]) throws {
        try write { db in
            for m in metrics { try db.execute(sql: "INSERT OR REPLACE INTO definition (key, text) VALUES (?, ?)", arguments: [m.key, m.definition]) }
        }
    }

    /// Inserts a run as `running` with its params, in one transaction.
    public func beginRun(_ run: NewRun, params: [(key: String, value: String)]) throws -> Int64 {
        try write { db in
            try db.execute(sql: """
                INSERT INTO run (experiment_id, run_key, tokenizer, label, dataset, config_json, seed, status, started_at, code_version, host, pid)
                VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)
                """, arguments: [run.experimentID, run.runKey, run.tokenizer, run.label, run.dataset, run.configJSON,
                                 Int64(bitPattern: run.seed), Self.now(), run.codeVersion, Self.host, Int64(getpid())])
            let id = db.lastInsertedRowID
            for p in params {
                try db.execute(sql: "INSERT OR REPLACE INTO param (run_id, key, value) VALUES (?, ?, ?)", arguments: [id, p.key, p.value])
            }
            return id
        }
    }

    public func recordParams(runID: Int64, _ params: [(key: String, value: String)]) throws {
        try write { db in
            for p in params {
                try db.execute(sql: "INSERT OR REPLACE INTO param (run_id, key, value) VALUES (?, ?, ?)", arguments: [runID, p.key, p.value])
            }
        }
    }

    /// One artifact, recorded at once (checkpoints are recorded when written, so a killed run can resume).
    public func recordArtifact(runID: Int64, kind: String, path: String) throws {
        try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO artifact (run_id, kind, path) VALUES (?, ?, ?)", arguments: [runID, kind, path])
        }
    }

    /// Runs of the most recent experiment of this name: run_key → (id, status, checkpoint path).
    public func latestRuns(experiment name: String) throws -> (experimentID: Int64, runs: [String: (id: Int64, status: RunStatus, checkpoint: String?)])? {
        try db.read { db in
            guard let eid = try Int64.fetchOne(db, sql: "SELECT id FROM experiment WHERE name = ? ORDER BY id DESC LIMIT 1", arguments: [name]) else { return nil }
            var out: [String: (id: Int64, status: RunStatus, checkpoint: String?)] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT r.id, r.run_key, r.status, (SELECT path FROM artifact a WHERE a.run_id = r.id AND a.kind = 'checkpoint') AS ckpt
                FROM run r WHERE r.experiment_id = ? ORDER BY r.id
                """, arguments: [eid]) {
                out[row["run_key"]] = (row["id"], RunStatus(rawValue: row["status"]) ?? .failed, row["ckpt"])
            }
            return (eid, out)
        }
    }

    /// Takes an unfinished run up again in this process.
    public func reopenRun(runID: Int64) throws {
        try write { db in
            try db.execute(sql: "UPDATE run SET status = 'running', error = NULL, finished_at = NULL, pid = ?, host = ? WHERE id = ?",
                           arguments: [Int64(getpid()), Self.host, runID])
        }
    }

    /// Cached lossless rates of an eval split, by coder: (bits, bytes).
    public func dataRates(key: String) throws -> [String: (bits: Int, bytes: Int)] {
        try db.read { db in
            var out: [String: (bits: Int, bytes: Int)] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT coder, bits, bytes FROM data_rate WHERE dataset_key = ?", arguments: [key]) {
                out[row["coder"]] = (row["bits"], row["bytes"])
            }
            return out
        }
    }

    public func saveDataRate(key: String, coder: String, bits: Int, bytes: Int, images: Int, seconds: Double, codeVersion: String) throws {
        try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO data_rate (dataset_key, coder, bits, bytes, images, seconds, code_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           arguments: [key, coder, bits, bytes, images, seconds, codeVersion, Self.now()])
        }
    }

    /// Per-step training metrics.
    public func recordMetrics(runID: Int64, step: Int, _ values: [MetricValue]) throws {
        try write { db in
            for v in values {
                try db.execute(sql: "INSERT OR REPLACE INTO metric (run_id, step, key, value) VALUES (?, ?, ?, ?)",
                               arguments: [runID, step, v.metric.key, v.value])
            }
        }
    }

    /// Final results and artifacts, and status `finished`, in one transaction.
    public func finishRun(runID: Int64, results: [MetricValue], artifacts: [(kind: String, path: String)] = []) throws {
        try write { db in
            for r in results {
                try db.execute(sql: "INSERT OR REPLACE INTO result (run_id, key, value) VALUES (?, ?, ?)", arguments: [runID, r.metric.key, r.value])
            }
            for a in artifacts {
                try db.execute(sql: "INSERT OR REPLACE INTO artifact (run_id, kind, path) VALUES (?, ?, ?)", arguments: [runID, a.kind, a.path])
            }
            try db.execute(sql: "UPDATE run SET status = 'finished', finished_at = ? WHERE id = ?", arguments: [Self.now(), runID])
        }
    }

    public func failRun(runID: Int64, reason: String) throws {
        try write { db in
            try db.execute(sql: "UPDATE run SET status = 'failed', error = ?, finished_at = ? WHERE id = ?", arguments: [reason, Self.now(), runID])
        }
    }

    /// Marks runs of this host left `running` by a process that no longer exists as `interrupted`.
    @discardableResult
    public func markInterruptedRuns() throws -> Int {
        try write { db in
            let rows = try Row.fetchAll(db, sql: "SELECT id, pid FROM run WHERE status = 'running' AND host = ?", arguments: [Self.host])
            var n = 0
            for row in rows {
                let pid: Int64 = row["pid"]
                if pid != Int64(getpid()) && kill(pid_t(pid), 0) != 0 && errno == ESRCH {
                    try db.execute(sql: "UPDATE run SET status = 'interrupted' WHERE id = ?", arguments: [row["id"] as Int64])
                    n += 1
                }
            }
            return n
        }
    }

    /// Runs a read-only SQL statement and returns its rows.
    public func query(_ sql: String, arguments: [String] = []) throws -> QueryResult {
        do {
            return try db.read { db in
                let statement = try db.makeStatement(sql: sql)
                guard statement.isReadonly else { throw StoreError("query: only read-only statements are allowed") }
                if !arguments.isEmpty { try statement.setArguments(StatementArguments(arguments)) }
                let columns = statement.columnNames
                var rows: [[QueryValue]] = []
                let cursor = try Row.fetchCursor(statement)
                while let row = try cursor.next() {
                    rows.append((0..<columns.count).map { i in
                        let v = row[i] as DatabaseValue
                        switch v.storage {
                        case .null: return .null
                        case .int64(let x): return .integer(x)
                        case .double(let x): return .real(x)
                        case .string(let s): return .text(s)
                        case .blob(let d): return .blob(d.count)
                        }
                    })
                }
                return QueryResult(columns: columns, rows: rows)
            }
        } catch let e as DatabaseError {
            throw StoreError("query: \(e.message ?? e.description)")
        }
    }

    /// The summary view, optionally for one experiment name, in run order.
    public func summary(experiment: String? = nil) throws -> QueryResult {
        if let e = experiment { return try query("SELECT * FROM summary WHERE experiment = ? ORDER BY run_id", arguments: [e]) }
        return try query("SELECT * FROM summary ORDER BY run_id")
    }

    /// "wal" for a file database.
    public func journalMode() throws -> String {
        try db.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// integrity_check's verdict ("ok" when sound).
    public func integrityCheck() throws -> String {
        try db.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ") }
    }

    private func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try db.write(body) } catch let e as DatabaseError { throw StoreError("\(path): \(e.message ?? e.description)") }
    }

    static func now() -> String { ISO8601DateFormatter().string(from: Date()) }
    static let host: String = ProcessInfo.processInfo.hostName
}

/// A store failure, in one line.
public struct StoreError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
