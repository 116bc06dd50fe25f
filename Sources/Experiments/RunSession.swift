import Foundation
import Store

/// Where one experiment of `tokbench run` records: its database, artifacts and caches.
/// - `--db` given: that database; artifacts beside it (`artifacts/`, in `artifacts/NAME-K/` for a shard).
/// - a shard without `--db`: `results/shards/NAME-K.sqlite`, artifacts in `results/shards/artifacts/NAME-K/`
///   (run ids are per shard, so shards never share an artifact folder); the caches stay in `results/cache`.
/// - otherwise `results/tokbench.sqlite`, `results/artifacts`, `results/cache`.
/// Artifact paths are recorded as written, relative to the working directory: shards and their merge
/// run from the same directory on a shared filesystem (docs/cluster.md).
public struct RecordingPlace: Equatable, Sendable {
    public var db: String
    public var artifactDir: String
    public var cacheDir: String
    public static let defaultDB = "results/tokbench.sqlite"

    public init(db explicit: String?, experiment: String, shard: Shard?) {
        let tag = shard.map { "\(experiment)-\($0.index)" }
        let base = ((explicit ?? Self.defaultDB) as NSString).deletingLastPathComponent
        func join(_ a: String, _ b: String) -> String { (a as NSString).appendingPathComponent(b) }
        cacheDir = join(base, "cache")
        if let db = explicit {
            self.db = db
            artifactDir = tag.map { join(join(base, "artifacts"), $0) } ?? join(base, "artifacts")
        } else if let tag {
            db = join(join(base, "shards"), tag + ".sqlite")
            artifactDir = join(join(join(base, "shards"), "artifacts"), tag)
        } else {
            db = Self.defaultDB
            artifactDir = join(base, "artifacts")
        }
    }
}

/// `tokbench run`: validates every file first, then runs each experiment (its shard's runs only when
/// sharded) into its recording place.
public struct RunSession {
    public var files: [String]
    public var overrides: [String]
    public var resume: Bool
    public var dryRun: Bool
    public var db: String?
    public var shard: Shard?
    public var killAfterCheckpoint: Int?

    public init(files: [String], overrides: [String], resume: Bool, dryRun: Bool, db: String?, shard: String?, killAfterCheckpoint: Int?,
                environment: [String: String] = ProcessInfo.processInfo.environment, say: (String) -> Void) throws {
        self.files = files; self.overrides = overrides; self.resume = resume; self.dryRun = dryRun; self.db = db
        self.killAfterCheckpoint = killAfterCheckpoint
        if let s = shard { self.shard = try Shard.parse(s) } else if let s = try Shard.fromSlurm(environment) {
            self.shard = s
            say("shard \(s) from the Slurm array task (SLURM_ARRAY_TASK_ID \(environment["SLURM_ARRAY_TASK_ID"] ?? ""))")
        }
    }

    /// Throws `RunFailures` at the end (after every run was tried) when any run was recorded `failed`.
    public func execute(say: @escaping (String) -> Void) throws {
        let experiments = try files.map { try Experiment.load(path: $0, overrides: overrides) }   // all checked before any run
        var failed = 0, total = 0, places: [String] = []
        for full in experiments {
            let e = shard.map { full.sharded($0) } ?? full
            if dryRun { say(e.plan + (shard.map { " (shard \($0) of \(full.runs.count) runs)" } ?? "")); continue }
            let place = RecordingPlace(db: db, experiment: e.name, shard: shard)
            let store = try ResultStore(path: place.db)
            defer { store.close() }   // the WAL checkpointed into the file, also when a run failed
            let runner = ExperimentRunner(store: store, artifactDir: place.artifactDir, cacheDir: place.cacheDir, say: say)
            if let n = killAfterCheckpoint { runner.afterCheckpoint = { count in if count >= n { kill(getpid(), SIGKILL) } } }
            say("experiment \(e.name) (\(e.file)): \(e.runs.count) runs" + (shard.map { ", shard \($0) of \(full.runs.count)" } ?? ""))
            let ids = try runner.run(e, resume: resume)
            say("recorded runs \(ids.map(String.init).joined(separator: ", ")) in \(place.db)")
            failed += runner.failedRuns; total += ids.count; places.append(place.db)
        }
        if failed > 0 { throw RunFailures(failed: failed, total: total, databases: places) }
    }
}

/// Some runs of `tokbench run` failed (each is recorded `failed` with its reason; the others ran).
public struct RunFailures: Error, CustomStringConvertible {
    public let failed: Int, total: Int, databases: [String]
    public var description: String {
        "\(failed) of \(total) runs failed; each is recorded `failed` with its reason (run.error) in \(databases.joined(separator: ", "))"
    }
}
