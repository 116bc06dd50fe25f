import Foundation
import GRDB
import MetricCatalogue

/// What a merge did: runs added, runs already present with identical results, runs left out.
public struct MergeSummary: Sendable {
    public var added = 0
    public var identical = 0
    public var replaced = 0
    public var skipped: [String] = []      // "shard.sqlite: run 4 (running)": not results
    public var dataRates = 0
}

extension ResultStore {
    /// One run of a shard with everything recorded about it.
    struct ShardRun {
        var source: String
        var experiment: ExperimentRecord
        var run: RunRecord
        var params: [ParamRecord]
        var metrics: [MetricRecord]
        var results: [ResultRecord]
        var artifacts: [ArtifactRecord]
        var images: [ImageMetricRecord]
        /// The run's finished AR probes with their curves and results (v4; none from an older shard).
        var probes: [(probe: ProbeRecord, metrics: [ProbeMetricRecord], results: [ProbeResultRecord])] = []
        /// Position in the experiment's plan (param plan.index), for the merged order.
        var planIndex: Int { Int(params.first { $0.key == "plan.index" }?.value ?? "") ?? Int.max }
    }

    /// Merges shard databases into this one, in one transaction: one experiment row per (name, file
    /// SHA-256); every finished or failed run with its params, curves, results, per-image values and
    /// artifact paths, in plan order; the cached data rates; the definitions. A run already here with
    /// the same run key and identical results is left alone (merging twice adds nothing); the same
    /// run key with different results is a conflict: an error naming both files and the run, and
    /// nothing is written. Runs still `running` or `interrupted` in a shard are not results: they are
    /// listed and left out.
    public func merge(shards: [String]) throws -> MergeSummary {
        var summary = MergeSummary()
        var incoming: [ShardRun] = []
        var rates: [(source: String, record: DataRateRecord)] = []
        var definitions: [DefinitionRecord] = []
        for path in shards {
            guard FileManager.default.fileExists(atPath: path) else { throw StoreError("\(path): no such shard database") }
            let src: DatabaseQueue
            do {
                var config = Configuration()
                config.readonly = true
                src = try DatabaseQueue(path: path, configuration: config)
            } catch let e as DatabaseError { throw StoreError("\(path): \(e.message ?? e.description)") }
            do {
                try src.read { db in
                    guard try db.tableExists("run"), try db.tableExists("image_metric") else {
                        throw StoreError("\(path): not a tokbench results database of this version (open it once with tokbench to migrate)")
                    }
                    let experiments = Dictionary(uniqueKeysWithValues: try ExperimentRecord.fetchAll(db).map { ($0.id!, $0) })
                    for r in try RunRecord.order(Columns.id).fetchAll(db) {
                        let status = try r.checkedStatus()
                        guard status == .finished || status == .failed else { summary.skipped.append("\(path): run \(r.id!) \(r.runKey) (\(r.status))"); continue }
                        let byRun = Columns.runID == r.id!
                        incoming.append(ShardRun(source: path, experiment: experiments[r.experimentID]!, run: r,
                                                 params: try ParamRecord.filter(byRun).fetchAll(db), metrics: try MetricRecord.filter(byRun).fetchAll(db),
                                                 results: try ResultRecord.filter(byRun).fetchAll(db), artifacts: try ArtifactRecord.filter(byRun).fetchAll(db),
                                                 images: try ImageMetricRecord.filter(byRun).fetchAll(db),
                                                 probes: try db.tableExists("probe") ? ProbeRecord.filter(byRun && Columns.status == RunStatus.finished.rawValue).fetchAll(db).map { p in
                                                     (p, try ProbeMetricRecord.filter(Columns.probeID == p.id!).fetchAll(db), try ProbeResultRecord.filter(Columns.probeID == p.id!).fetchAll(db))
                                                 } : []))
                    }
                    rates += try DataRateRecord.fetchAll(db).map { (path, $0) }
                    definitions += try DefinitionRecord.fetchAll(db)
                }
            } catch let e as DatabaseError { throw StoreError("\(path): \(e.message ?? e.description)") }
        }
        // Plan order within each experiment (as an unsharded run records them), shards in the order given.
        let order = Dictionary(uniqueKeysWithValues: shards.enumerated().map { ($1, $0) })
        incoming.sort { a, b in
            (a.experiment.name, a.experiment.fileSHA256, a.planIndex, order[a.source] ?? 0, a.run.id!)
                < (b.experiment.name, b.experiment.fileSHA256, b.planIndex, order[b.source] ?? 0, b.run.id!)
        }
        try write { db in
            var origin: [Int64: String] = [:]   // run id here → the shard it came from in this merge
            for s in incoming {
                let experimentID: Int64
                if let e = try ExperimentRecord.filter(Columns.name == s.experiment.name && Columns.fileSHA256 == s.experiment.fileSHA256)
                    .order(Columns.id.desc).fetchOne(db) {
                    experimentID = e.id!
                } else {
                    var e = s.experiment
                    e.id = nil
                    try e.insert(db)
                    experimentID = e.id!
                }
                if let existing = try RunRecord.filter(Columns.experimentID == experimentID && Columns.runKey == s.run.runKey)
                    .order(Columns.id.desc).fetchOne(db) {
                    let here = try ResultRecord.filter(Columns.runID == existing.id!).fetchAll(db)
                    let hereImages = try ImageMetricRecord.filter(Columns.runID == existing.id!).fetchAll(db)
                    if try existing.checkedStatus() == .finished || s.run.checkedStatus() != .finished {
                        if let difference = Self.difference(here, hereImages, existing.status, s.results, s.images, s.run.status) {
                            throw StoreError("merge conflict: run \"\(s.run.runKey)\" of experiment \(s.experiment.name) differs between \(s.source) (run \(s.run.id!)) and \(origin[existing.id!] ?? path) (run \(existing.id!)): \(difference); nothing was merged")
                        }
                        summary.identical += 1
                        try Self.insertProbes(s.probes, runID: existing.id!, db)   // probes the shard recorded after an earlier merge
                        continue
                    }
                    _ = try existing.delete(db)   // an unfinished run here gives way to the shard's finished one
                    summary.replaced += 1
                }
                var r = s.run
                r.id = nil
                r.experimentID = experimentID
                try r.insert(db)
                let id = r.id!
                origin[id] = s.source
                for var p in s.params { p.runID = id; try p.insert(db) }
                for var m in s.metrics { m.runID = id; try m.insert(db) }
                for var x in s.results { x.runID = id; try x.insert(db) }
                for var a in s.artifacts { a.runID = id; try a.insert(db) }
                for var i in s.images { i.runID = id; try i.insert(db) }
                try Self.insertProbes(s.probes, runID: id, db)
                summary.added += 1
            }
            for (source, rate) in rates {
                if let here = try DataRateRecord.filter(Columns.datasetKey == rate.datasetKey && Columns.coder == rate.coder).fetchOne(db) {
                    if here.bits != rate.bits || here.bytes != rate.bytes {
                        throw StoreError("merge conflict: the cached data rate of \(rate.coder) on \(rate.datasetKey) differs between \(source) (\(rate.bits) bits) and \(path) (\(here.bits) bits); nothing was merged")
                    }
                } else {
                    try rate.insert(db)
                    summary.dataRates += 1
                }
            }
            for d in definitions { try d.save(db) }
        }
        return summary
    }

    /// A shard run's probes, with their curves and results, under run `runID` here: those not here yet (same seed,
    /// settings and start time), so merging twice adds nothing.
    static func insertProbes(_ probes: [(probe: ProbeRecord, metrics: [ProbeMetricRecord], results: [ProbeResultRecord])], runID: Int64, _ db: Database) throws {
        let here = try ProbeRecord.filter(Columns.runID == runID).fetchAll(db)
        for (probe, metrics, results) in probes
        where !here.contains(where: { $0.seed == probe.seed && $0.configJSON == probe.configJSON && $0.startedAt == probe.startedAt }) {
            var p = probe
            p.id = nil; p.runID = runID
            try p.insert(db)
            for var m in metrics { m.probeID = p.id!; try m.insert(db) }
            for var x in results { x.probeID = p.id!; try x.insert(db) }
        }
    }

    /// How two recordings of one run differ (status, a result, per-image values), or nil when identical.
    static func difference(_ a: [ResultRecord], _ ai: [ImageMetricRecord], _ aStatus: String,
                           _ b: [ResultRecord], _ bi: [ImageMetricRecord], _ bStatus: String) -> String? {
        if aStatus != bStatus { return "status \(bStatus) vs \(aStatus)" }
        let x = Dictionary(uniqueKeysWithValues: a.map { ($0.key, $0.value) }), y = Dictionary(uniqueKeysWithValues: b.map { ($0.key, $0.value) })
        // Wall times differ between any two executions; they are not results.
        let timing: Set<String> = [Metric.trainSeconds.key, Metric.evalSeconds.key]
        for k in Set(x.keys).union(y.keys).subtracting(timing).sorted() {
            let u = x[k] ?? nil, v = y[k] ?? nil
            if u != v && !(u?.isNaN == true && v?.isNaN == true) {
                return "\(k) \(v.map { String($0) } ?? "missing") vs \(u.map { String($0) } ?? "missing")"
            }
        }
        let ximg = Dictionary(uniqueKeysWithValues: ai.map { ($0.key, $0.data) }), yimg = Dictionary(uniqueKeysWithValues: bi.map { ($0.key, $0.data) })
        for k in Set(ximg.keys).union(yimg.keys).sorted() where ximg[k] != yimg[k] { return "per-image \(k) values" }
        return nil
    }
}
