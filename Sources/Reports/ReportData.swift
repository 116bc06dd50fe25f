import Foundation
import Store
import Kernels
import MetricCatalogue

/// One run as the reports see it: everything read from the store, nothing recomputed.
public struct ReportRun {
    public var id: Int64
    public var experiment: String
    /// The registry kind, with "-1d" for the 1-D transformer backbone: a family of its own in tables and figures.
    public var kind: String
    public var label: String
    public var dataset: String
    public var status: String
    public var seed: UInt64
    public var codeVersion: String
    public var results: [String: Double]
    public var params: [String: String]
    public var artifacts: [String: String]
    /// The run's finished AR probes, in prior-seed order (none when it was not probed).
    public var probes: [StoredProbe] = []

    /// A final result by catalogue metric.
    public func value(_ m: Metric) -> Double? { results[m.key] }

    /// The compute environment recorded with the run (CPU, threads, BLAS and its kernels), one line.
    public var environment: String {
        ComputeEnvironment(params: params)?.summary ?? "not recorded (run made before the environment was recorded)"
    }

    /// The label without the kind: "bits=8, patch=4".
    public var config: String {
        let l = label
        guard let open = l.firstIndex(of: "("), l.hasSuffix(")") else { return l }
        return String(l[l.index(after: open)..<l.index(before: l.endIndex)])
    }
}

/// What a report covers, read from the store.
public struct ReportData {
    public var runs: [ReportRun]
    public var metrics: [Int64: [String: [(step: Int, value: Double)]]]
    public var definitions: [(key: String, text: String)]
    /// Per-image values by run and metric key (`Metric.perImage`), eval order.
    public var imageValues: [Int64: [String: [Double]]] = [:]

    /// Runs of the latest experiment of each given name (all runs when no name is given),
    /// optionally narrowed by a SQL condition on the `summary` view (e.g. "tokenizer = 'vq-vae'");
    /// finished runs only.
    public static func load(store: ResultStore, experiments: [String], filter: String?) throws -> ReportData {
        let stored = try store.runs(try store.finishedRunIDs(latestOf: experiments, where: filter))
        let probes = try store.probes(ofRuns: stored.map { $0.run.id! })
        let runs = stored.map { s in
            ReportRun(id: s.run.id!, experiment: s.experiment, kind: s.run.tokenizer + (s.params["tokenizer.backbone"] == "vit1d" ? "-1d" : ""), label: s.run.label, dataset: s.run.dataset,
                      status: s.run.status, seed: UInt64(bitPattern: s.run.seed), codeVersion: s.run.codeVersion, results: s.results, params: s.params, artifacts: s.artifacts,
                      probes: probes[s.run.id!] ?? [])
        }
        let metrics = Dictionary(uniqueKeysWithValues: stored.map { ($0.run.id!, $0.curves) })
        let defs = try store.definitions().map { (key: $0.key, text: $0.text) }
        var images: [Int64: [String: [Double]]] = [:]
        for r in runs { for m in Metric.perImage { if let v = try store.imageValues(runID: r.id, metric: m) { images[r.id, default: [:]][m.key] = v } } }
        return ReportData(runs: runs, metrics: metrics, definitions: defs, imageValues: images)
    }
}
