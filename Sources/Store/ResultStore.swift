import Foundation
import GRDB
import MetricCatalogue

/// The results database. One writer per process; WAL lets several processes share the file.
/// Every write is a transaction: a run is `running` until its final results commit with it.
public final class ResultStore: @unchecked Sendable {
    let db: any DatabaseWriter
    public let path: String

    /// Checkpoints the WAL into the database file (TRUNCATE: the WAL is left empty) and closes the database, so
    /// the .sqlite file alone holds every record and a plain copy of it misses nothing. Closing alone does not do
    /// it: a pool's last connection to close may be a read-only reader, which cannot checkpoint. Best effort (another
    /// process reading the file can hold the checkpoint back; the WAL keeps everything then); later use throws.
    public func close() {
        try? db.writeWithoutTransaction { try $0.checkpoint(.truncate) }
        try? db.close()
    }

    /// Opens (creating if needed, unless `mustExist`) the database file and applies pending migrations.
    /// A database with a migration this build does not know (written by a newer tokbench) is refused,
    /// untouched. With `readOnly` (query, runs, report, compare, export) the file is opened read-only and
    /// never written: its schema must be this build's (no migration pending), and a `summary` view that
    /// differs from the catalogue's is replaced by a temporary one for this connection only. A file the
    /// user cannot write, in a folder they cannot write, still opens (SQLite's immutable mode).
    public init(path: String, mustExist: Bool = false, readOnly: Bool = false) throws {
        self.path = path
        if (mustExist || readOnly) && !FileManager.default.fileExists(atPath: path) {
            throw StoreError("\(path): no results database here (run an experiment first, or pass --db)")
        }
        var config = Configuration()
        config.busyMode = .timeout(60)
        config.foreignKeysEnabled = true
        if readOnly {
            config.readonly = true
            let writable = access(path, W_OK) == 0 && access((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent, W_OK) == 0
            do {
                // A WAL database opens read-only where its -shm file can be made; otherwise as immutable.
                db = try (writable ? DatabaseQueue(path: path, configuration: config) : DatabaseQueue(path: "file:\(Self.uriEscaped(path))?immutable=1", configuration: config))
                try db.read { db in
                    try Self.refuseNewer(db, path: path)
                    let pending = try Migrations.migrator.appliedIdentifiers(db)
                    let missing = Migrations.identifiers.filter { !pending.contains($0) }
                    if !missing.isEmpty {
                        throw StoreError("\(path): written by an older tokbench (migration \(missing.joined(separator: ", ")) not applied, or not a tokbench database); a writing command (tokbench run, merge) upgrades it")
                    }
                }
                try db.writeWithoutTransaction { try SummaryView.ensureTemporary($0) }
            } catch let e as DatabaseError {
                throw StoreError("\(path): \(e.message ?? e.description)")
            }
            return
        }
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        // Opening (WAL switch) and migrating happen under an exclusive file lock, so several
        // processes starting on a new database at once apply the migrations exactly once.
        let lock = open(path + ".lock", O_CREAT | O_RDWR, 0o644)
        if lock >= 0 { flock(lock, LOCK_EX) }
        defer { if lock >= 0 { flock(lock, LOCK_UN); Glibc.close(lock) } }
        do {
            if FileManager.default.fileExists(atPath: path) {
                // Checked before anything is written (the WAL switch included).
                let probe = try DatabaseQueue(path: path, configuration: { var c = config; c.readonly = true; return c }())
                try probe.read { try Self.refuseNewer($0, path: path) }
                try probe.close()
            }
            db = try DatabasePool(path: path, configuration: config)  // WAL mode
            try Migrations.migrator.migrate(db)
            try db.write { try SummaryView.ensure($0) }
        } catch let e as DatabaseError {
            throw StoreError("\(path): \(e.message ?? e.description)")
        }
    }

    /// A database that records a migration this build does not know was written by a newer tokbench.
    static func refuseNewer(_ db: Database, path: String) throws {
        let applied = try Migrations.migrator.appliedIdentifiers(db)
        let unknown = applied.subtracting(Migrations.identifiers).sorted()
        if !unknown.isEmpty {
            throw StoreError("\(path): written by a newer tokbench (migration \(unknown.joined(separator: ", ")) unknown to this build, which knows "
                             + "\(Migrations.identifiers.joined(separator: ", "))); left untouched: use that tokbench")
        }
    }

    static func uriEscaped(_ path: String) -> String {
        path.addingPercentEncoding(withAllowedCharacters: CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "?#%"))) ?? path
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
            var e = ExperimentRecord(id: nil, name: name, file: file, fileSHA256: fileSHA256, createdAt: Self.now())
            try e.insert(db)
            return e.id!
        }
    }

    /// The latest experiment of this name, created (with this file and hash) when there is none. The
    /// lookup and the insert share one IMMEDIATE transaction (the write lock taken before the read), so
    /// processes starting on the same database at once (`run --shard K/N --resume --db shared.sqlite`)
    /// agree on one experiment instead of each creating its own.
    public func experimentID(named name: String, file: String, fileSHA256: String) throws -> Int64 {
        try immediate { db in
            if let e = try ExperimentRecord.filter(Columns.name == name).order(Columns.id.desc).fetchOne(db) { return e.id! }
            var e = ExperimentRecord(id: nil, name: name, file: file, fileSHA256: fileSHA256, createdAt: Self.now())
            try e.insert(db)
            return e.id!
        }
    }

    /// Records the definitions that give results their meaning (latest text wins).
    public func recordDefinitions(_ metrics: [Metric]) throws {
        try write { db in for m in metrics { try DefinitionRecord(key: m.key, text: m.definition).save(db) } }
    }

    /// Inserts a run as `running` with its params, in one transaction.
    public func beginRun(_ run: NewRun, params: [(key: String, value: String)]) throws -> Int64 {
        try write { db in try Self.insertRun(db, run, params: params) }
    }

    private static func insertRun(_ db: Database, _ run: NewRun, params: [(key: String, value: String)]) throws -> Int64 {
            var r = RunRecord(id: nil, experimentID: run.experimentID, runKey: run.runKey, tokenizer: run.tokenizer, label: run.label,
                              dataset: run.dataset, configJSON: run.configJSON, seed: Int64(bitPattern: run.seed), status: RunStatus.running.rawValue,
                              error: nil, startedAt: Self.now(), finishedAt: nil, codeVersion: run.codeVersion, host: Self.host, pid: Int64(getpid()),
                              heartbeatAt: Self.now())
            try r.insert(db)
            for p in params { try ParamRecord(runID: r.id!, key: p.key, value: p.value).save(db) }
            return r.id!
    }

    public func recordParams(runID: Int64, _ params: [(key: String, value: String)]) throws {
        try write { db in for p in params { try ParamRecord(runID: runID, key: p.key, value: p.value).save(db) } }
    }

    /// One artifact, recorded at once (checkpoints are recorded when written, so a killed run can resume).
    public func recordArtifact(runID: Int64, kind: String, path: String) throws {
        try write { db in try ArtifactRecord(runID: runID, kind: kind, path: path).save(db) }
    }

    /// What `claimRun` found for a run key.
    public enum Claim: Equatable, Sendable {
        /// Finished before: nothing to do.
        case finished(Int64)
        /// Another live process is running it: skip it.
        case busy(Int64)
        /// This process now holds the run (`running`, its heartbeat fresh): a new row, or an interrupted or
        /// failed one taken up again (with its last checkpoint, if any).
        case claimed(Int64, checkpoint: String?, resumed: Bool)
    }

    /// Claims one run key of an experiment for this process, atomically: in one IMMEDIATE transaction
    /// (the write lock taken before the read) it reads the key's latest run and either sees it finished,
    /// sees another live process's claim, takes an interrupted/failed/dead one up again, or inserts the
    /// run as `running` with its params and heartbeat. Two processes resuming one database at once never
    /// both run the same key.
    public func claimRun(_ run: NewRun, params: [(key: String, value: String)],
                         staleAfter limit: TimeInterval = ResultStore.heartbeatLimit, now: Date = Date()) throws -> Claim {
        try immediate { db in
            let latest = try RunRecord.filter(Columns.experimentID == run.experimentID && Columns.runKey == run.runKey)
                .order(Columns.id.desc).fetchOne(db)
            guard var r = latest, let id = r.id else { return .claimed(try Self.insertRun(db, run, params: params), checkpoint: nil, resumed: false) }
            let status = try r.checkedStatus()
            if status == .finished { return .finished(id) }
            if status == .running && Self.holder(of: r, now: now, staleAfter: limit) == .otherLive { return .busy(id) }
            r.status = RunStatus.running.rawValue; r.error = nil; r.finishedAt = nil; r.pid = Int64(getpid()); r.host = Self.host
            r.heartbeatAt = Self.format(now)
            try r.update(db)
            let ckpt = try ArtifactRecord.filter(Columns.runID == id && Columns.kind == "checkpoint").fetchOne(db)?.path
            return .claimed(id, checkpoint: ckpt, resumed: true)
        }
    }

    /// `body` in one IMMEDIATE transaction (the write lock taken before the first read), so a read and the
    /// write it decides are atomic across processes sharing the database.
    func immediate<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try db.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) { result = try body(db); return .commit }
                return result!
            }
        } catch let e as DatabaseError { throw StoreError("\(path): \(e.message ?? e.description)") }
    }

    /// Cached lossless rates of an eval split, by coder: (bits, bytes).
    public func dataRates(key: String) throws -> [String: (bits: Int, bytes: Int)] {
        try read { db in
            var out: [String: (bits: Int, bytes: Int)] = [:]
            for r in try DataRateRecord.filter(Columns.datasetKey == key).fetchAll(db) { out[r.coder] = (r.bits, r.bytes) }
            return out
        }
    }

    public func saveDataRate(key: String, coder: String, bits: Int, bytes: Int, images: Int, seconds: Double, codeVersion: String) throws {
        try write { db in
            try DataRateRecord(datasetKey: key, coder: coder, bits: bits, bytes: bytes, images: images, seconds: seconds,
                               codeVersion: codeVersion, createdAt: Self.now()).save(db)
        }
    }

    /// Per-step training metrics.
    public func recordMetrics(runID: Int64, step: Int, _ values: [MetricValue]) throws {
        try write { db in for v in values { try MetricRecord(runID: runID, step: step, key: v.metric.key, value: v.value).save(db) } }
    }

    /// Final results, per-image values and artifacts, and status `finished`, in one transaction.
    public func finishRun(runID: Int64, results: [MetricValue], perImage: [(metric: Metric, values: [Double])] = [],
                          artifacts: [(kind: String, path: String)] = []) throws {
        try write { db in
            for r in results { try ResultRecord(runID: runID, key: r.metric.key, value: r.value).save(db) }
            for p in perImage { try ImageMetricRecord(runID: runID, key: p.metric.key, values: p.values).save(db) }
            for a in artifacts { try ArtifactRecord(runID: runID, kind: a.kind, path: a.path).save(db) }
            try Self.update(db, runID) { $0.status = RunStatus.finished.rawValue; $0.finishedAt = Self.now() }
        }
    }

    public func failRun(runID: Int64, reason: String) throws {
        try updateRun(runID) { $0.status = RunStatus.failed.rawValue; $0.error = reason; $0.finishedAt = Self.now() }
    }

    /// How long a running process's heartbeat may be silent before its run counts as interrupted,
    /// whatever host it ran on (a requeued Slurm job resumes it, perhaps on another node).
    public static let heartbeatLimit: TimeInterval = 180
    /// How often a running process refreshes its runs' heartbeat.
    public static let heartbeatInterval: TimeInterval = 30

    /// Refreshes a running run's sign of life (the runner calls it every `heartbeatInterval` seconds).
    public func heartbeat(runID: Int64, at date: Date = Date()) throws {
        try updateRun(runID) { $0.heartbeatAt = Self.format(date) }
    }

    /// Marks runs left `running` by a process that is gone as `interrupted`: on any host, a run whose
    /// heartbeat is older than `staleAfter` seconds; on this host also a run whose process no longer
    /// exists or is a zombie (killed, not yet reaped). A run of this process is never touched.
    @discardableResult
    public func markInterruptedRuns(staleAfter limit: TimeInterval = ResultStore.heartbeatLimit, now: Date = Date()) throws -> Int {
        try write { db in
            var n = 0
            for var r in try RunRecord.filter(Columns.status == RunStatus.running.rawValue).fetchAll(db) {
                let holder = Self.holder(of: r, now: now, staleAfter: limit)
                guard holder == .stale || holder == .gone else { continue }
                r.status = RunStatus.interrupted.rawValue
                r.error = holder == .stale ? "no heartbeat since \(r.heartbeatAt!) (host \(r.host), pid \(r.pid))" : "process \(r.pid) on \(r.host) is gone"
                try r.update(db)
                n += 1
            }
            return n
        }
    }

    /// Who holds a `running` run: this process, another live one, or nobody any more (its heartbeat is
    /// older than `staleAfter` seconds, on any host; or, on this host, its process is gone or a zombie).
    enum Holder: Equatable { case thisProcess, otherLive, stale, gone }
    static func holder(of r: RunRecord, now: Date, staleAfter limit: TimeInterval) -> Holder {
        if r.host == host && r.pid == Int64(getpid()) { return .thisProcess }
        if r.heartbeatAt.flatMap(parse).map({ now.timeIntervalSince($0) > limit }) ?? false { return .stale }
        if r.host == host && !processAlive(pid_t(r.pid)) { return .gone }
        return .otherLive
    }

    /// True when the process exists and is not a zombie.
    static func processAlive(_ pid: pid_t) -> Bool {
        if kill(pid, 0) != 0 && errno == ESRCH { return false }
        // /proc/PID/stat: "pid (comm) S ..."; the state follows the last ')'.
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") {
            let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
            if state == "Z" || state == "X" { return false }
        }
        return true
    }

    // MARK: AR probes (a prior trained on a run's tokens; ARCHITECTURE.md, "AR probing")

    /// A probe of a finished run begins (status running); returns its id.
    public func beginProbe(runID: Int64, seed: UInt64, configJSON: String, codeVersion: String) throws -> Int64 {
        try write { db in
            guard try RunRecord.fetchOne(db, key: runID) != nil else { throw StoreError("\(path): no run \(runID)") }
            var p = ProbeRecord(id: nil, runID: runID, seed: Int64(bitPattern: seed), configJSON: configJSON, status: RunStatus.running.rawValue,
                                error: nil, startedAt: Self.now(), finishedAt: nil, codeVersion: codeVersion, samplesPath: nil)
            try p.insert(db)
            return p.id!
        }
    }

    /// Points of a probe's curve.
    public func recordProbeMetrics(probeID: Int64, step: Int, _ values: [MetricValue]) throws {
        try write { db in for v in values { try ProbeMetricRecord(probeID: probeID, step: step, key: v.metric.key, value: v.value).save(db) } }
    }

    /// A probe's final numbers and samples grid, and status finished, in one transaction.
    public func finishProbe(probeID: Int64, results: [MetricValue], samplesPath: String?) throws {
        try write { db in
            for r in results { try ProbeResultRecord(probeID: probeID, key: r.metric.key, value: r.value).save(db) }
            guard var p = try ProbeRecord.fetchOne(db, key: probeID) else { throw StoreError("\(path): no probe \(probeID)") }
            p.status = RunStatus.finished.rawValue; p.finishedAt = Self.now(); p.samplesPath = samplesPath
            try p.update(db)
        }
    }

    public func failProbe(probeID: Int64, reason: String) throws {
        try write { db in
            guard var p = try ProbeRecord.fetchOne(db, key: probeID) else { return }
            p.status = RunStatus.failed.rawValue; p.error = reason; p.finishedAt = Self.now()
            try p.update(db)
        }
    }

    /// The finished probes of these runs, by run id, in seed order: those with the settings (config JSON) of the
    /// run's latest finished probe, so a configuration's mean never mixes two prior settings; a later probe of
    /// the same seed and settings replaces an earlier one.
    public func probes(ofRuns ids: [Int64]) throws -> [Int64: [StoredProbe]] {
        try read { db in
            var out: [Int64: [StoredProbe]] = [:]
            for id in ids {
                var bySeed: [Int64: StoredProbe] = [:]
                let finished = try ProbeRecord.filter(Columns.runID == id && Columns.status == RunStatus.finished.rawValue).order(Columns.id).fetchAll(db)
                for p in finished where p.configJSON == finished.last!.configJSON {
                    var s = StoredProbe(probe: p, results: [:], curves: [:])
                    for r in try ProbeResultRecord.filter(Columns.probeID == p.id!).fetchAll(db) { s.results[r.key] = r.value }
                    for m in try ProbeMetricRecord.filter(Columns.probeID == p.id!).order(Columns.key, Columns.step).fetchAll(db) {
                        if let v = m.value { s.curves[m.key, default: []].append((m.step, v)) }
                    }
                    bySeed[p.seed] = s
                }
                if !bySeed.isEmpty { out[id] = bySeed.keys.sorted().map { bySeed[$0]! } }
            }
            return out
        }
    }

    // MARK: typed reads (reports, doctor)

    /// Ids of finished runs of the latest experiment of each given name (all experiments when none is
    /// given), narrowed by an optional SQL condition on the `summary` view, in run order.
    public func finishedRunIDs(latestOf experiments: [String], where condition: String?) throws -> [Int64] {
        var conditions = ["status = 'finished'"]
        var arguments: [String] = []
        if !experiments.isEmpty {
            conditions.append("run_id IN (SELECT r.id FROM run r WHERE r.experiment_id IN (SELECT max(id) FROM experiment WHERE name IN ("
                              + experiments.map { _ in "?" }.joined(separator: ", ") + ") GROUP BY name))")
            arguments = experiments
        }
        if let c = condition, !c.isEmpty { conditions.append("(\(c))") }
        return try query("SELECT run_id FROM summary WHERE " + conditions.joined(separator: " AND ") + " ORDER BY run_id", arguments: arguments)
            .rows.compactMap { if case .integer(let v) = $0[0] { return v }; return nil }
    }

    /// Everything recorded about these runs (missing ids are skipped).
    public func runs(_ ids: [Int64]) throws -> [StoredRun] {
        try read { db in
            try ids.compactMap { id -> StoredRun? in
                guard let r = try RunRecord.fetchOne(db, key: id), let e = try ExperimentRecord.fetchOne(db, key: r.experimentID) else { return nil }
                var out = StoredRun(run: r, experiment: e.name, results: [:], params: [:], artifacts: [:], curves: [:])
                for x in try ResultRecord.filter(Columns.runID == id).fetchAll(db) { out.results[x.key] = x.value }
                for p in try ParamRecord.filter(Columns.runID == id).fetchAll(db) { out.params[p.key] = p.value }
                for a in try ArtifactRecord.filter(Columns.runID == id).fetchAll(db) { out.artifacts[a.kind] = a.path }
                for m in try MetricRecord.filter(Columns.runID == id).order(Columns.key, Columns.step).fetchAll(db) {
                    if let v = m.value { out.curves[m.key, default: []].append((m.step, v)) }
                }
                return out
            }
        }
    }

    /// A run's per-image values of a metric (eval order), nil when not recorded.
    public func imageValues(runID: Int64, metric: Metric) throws -> [Double]? {
        try read { db in
            guard let r = try ImageMetricRecord.filter(Columns.runID == runID && Columns.key == metric.key).fetchOne(db) else { return nil }
            guard let v = r.values else { throw StoreError("\(path): run \(runID): per-image \(metric.key) values are damaged (\(r.data.count) bytes for \(r.count) images)") }
            return v
        }
    }

    /// The recorded definitions, by key.
    public func definitions() throws -> [DefinitionRecord] {
        try read { db in try DefinitionRecord.order(Columns.key).fetchAll(db) }
    }

    /// Number of runs by status.
    public func runCountsByStatus() throws -> [(status: String, count: Int)] {
        try read { db in
            try Row.fetchAll(db, RunRecord.select(Columns.status, count(Columns.id).forKey("n")).group(Columns.status).order(Columns.status))
                .map { ($0["status"], $0["n"]) }
        }
    }

    /// Every recorded artifact.
    public func artifacts() throws -> [ArtifactRecord] {
        try read { db in try ArtifactRecord.fetchAll(db) }
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

    /// The `summary_by_config` view (one row per configuration: mean and std over seeds), optionally for one experiment.
    public func summaryByConfig(experiment: String? = nil) throws -> QueryResult {
        if let e = experiment { return try query("SELECT * FROM summary_by_config WHERE experiment = ?", arguments: [e]) }
        return try query("SELECT * FROM summary_by_config")
    }

    /// "wal" for a file database.
    public func journalMode() throws -> String {
        try db.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// integrity_check's verdict ("ok" when sound).
    public func integrityCheck() throws -> String {
        try db.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ") }
    }

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try db.write(body) } catch let e as DatabaseError { throw StoreError("\(path): \(e.message ?? e.description)") }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try db.read(body) } catch let e as DatabaseError { throw StoreError("\(path): \(e.message ?? e.description)") }
    }

    private func updateRun(_ id: Int64, _ change: (inout RunRecord) -> Void) throws {
        try write { db in try Self.update(db, id, change) }
    }

    private static func update(_ db: Database, _ id: Int64, _ change: (inout RunRecord) -> Void) throws {
        guard var r = try RunRecord.fetchOne(db, key: id) else { throw StoreError("run \(id) does not exist") }
        change(&r)
        try r.update(db)
    }

    static func now() -> String { format(Date()) }
    static func format(_ d: Date) -> String { ISO8601DateFormatter().string(from: d) }
    static func parse(_ s: String) -> Date? { ISO8601DateFormatter().date(from: s) }
    static let host: String = ProcessInfo.processInfo.hostName
}

/// A store failure, in one line.
public struct StoreError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
