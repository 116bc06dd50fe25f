import Foundation
import Store
import MetricCatalogue

/// One run as the reports see it: everything read from the store, nothing recomputed.
public struct ReportRun {
    public var id: Int64
    public var experiment: String
    public var kind: String
    public var label: String
    public var dataset: String
    public var status: String
    public var codeVersion: String
    public var results: [String: Double]
    public var params: [String: String]
    public var artifacts: [String: String]

    /// A final result by catalogue metric.
    public func value(_ m: Metric) -> Double? { results[m.key] }

    /// The compute environment recorded with the run (CPU, threads, BLAS and its kernels), one line.
    public var environment: String {
        guard let cpu = params["env.cpu"] else { return "not recorded (run made before the environment was recorded)" }
        let blas = (params["env.blas"] ?? "BLAS").split(separator: " ").prefix(2).joined(separator: " ")
        return "\(cpu), \(params["env.threads"] ?? "?") threads, \(blas) \(params["env.blas_core"] ?? "?") kernels, "
            + "\(params["env.swift"] ?? "Swift ?"), \(params["env.os"] ?? "")"
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

    /// Runs of the latest experiment of each given name (all runs when no name is given),
    /// optionally narrowed by a SQL condition on the `summary` view (e.g. "tokenizer = 'vq-vae'");
    /// finished runs only.
    public static func load(store: ResultStore, experiments: [String], filter: String?) throws -> ReportData {
        var conditions = ["status = 'finished'"]
        if !experiments.isEmpty {
            let names = experiments.map { "'" + $0.replacingOccurrences(of: "'", with: "''") + "'" }.joined(separator: ", ")
            conditions.append("run_id IN (SELECT r.id FROM run r WHERE r.experiment_id IN (SELECT max(id) FROM experiment WHERE name IN (\(names)) GROUP BY name))")
        }
        if let f = filter, !f.isEmpty { conditions.append("(\(f))") }
        let ids = try store.query("SELECT run_id FROM summary WHERE " + conditions.joined(separator: " AND ") + " ORDER BY run_id")
            .rows.compactMap { if case .integer(let v) = $0[0] { return v }; return nil }
        var runs: [ReportRun] = []
        var metrics: [Int64: [String: [(step: Int, value: Double)]]] = [:]
        for id in ids {
            let r = try store.query("SELECT e.name, r.tokenizer, r.label, r.dataset, r.status, r.code_version FROM run r JOIN experiment e ON e.id = r.experiment_id WHERE r.id = ?", arguments: [String(id)]).rows[0]
            var run = ReportRun(id: id, experiment: r[0].description, kind: r[1].description, label: r[2].description, dataset: r[3].description,
                                status: r[4].description, codeVersion: r[5].description, results: [:], params: [:], artifacts: [:])
            for row in try store.query("SELECT key, value FROM result WHERE run_id = ?", arguments: [String(id)]).rows {
                run.results[row[0].description] = row[1].doubleValue
            }
            for row in try store.query("SELECT key, value FROM param WHERE run_id = ?", arguments: [String(id)]).rows {
                run.params[row[0].description] = row[1].description
            }
            for row in try store.query("SELECT kind, path FROM artifact WHERE run_id = ?", arguments: [String(id)]).rows {
                run.artifacts[row[0].description] = row[1].description
            }
            var m: [String: [(step: Int, value: Double)]] = [:]
            for row in try store.query("SELECT key, step, value FROM metric WHERE run_id = ? ORDER BY key, step", arguments: [String(id)]).rows {
                if case .integer(let step) = row[1], let v = row[2].doubleValue { m[row[0].description, default: []].append((Int(step), v)) }
            }
            metrics[id] = m
            runs.append(run)
        }
        let defs = try store.query("SELECT key, text FROM definition ORDER BY key").rows.map { (key: $0[0].description, text: $0[1].description) }
        return ReportData(runs: runs, metrics: metrics, definitions: defs)
    }
}

extension QueryValue {
    var doubleValue: Double? {
        switch self {
        case .real(let v): return v
        case .integer(let v): return Double(v)
        default: return nil
        }
    }
}
