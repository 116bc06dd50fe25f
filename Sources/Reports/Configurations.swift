import Foundation
import MetricCatalogue

/// Runs of one experiment that differ only in seed (same label): one configuration, as tables and
/// figures show it. Aggregates follow the catalogue's definitions (`agg_seeds`, `agg_seed_ci95`).
public struct ReportConfig {
    public var experiment: String
    public var label: String
    public var kind: String
    public var dataset: String
    /// The configuration's finished runs, in seed order.
    public var runs: [ReportRun]
    public var n: Int { runs.count }
    /// The label without the kind.
    public var config: String { runs[0].config }

    /// The metric over the runs that recorded it, in seed order.
    public func values(_ m: Metric) -> [Double] { runs.compactMap { $0.value(m) } }

    /// Mean over seeds and sample std (nil when fewer than 2 values or any value is infinite);
    /// nil when no run recorded the metric.
    public func aggregate(_ m: Metric) -> (mean: Double, std: Double?, n: Int)? {
        let v = values(m)
        guard !v.isEmpty else { return nil }
        if v.contains(where: { !$0.isFinite }) { return (v.allSatisfy { $0 == v[0] } ? v[0] : .nan, nil, v.count) }
        return (Statistics.mean(v), Statistics.std(v), v.count)
    }

    /// A table cell: the value for one run, "mean ± std" over several (the std in the metric's format;
    /// a metric identical across seeds, such as L, shows bare).
    public func cell(_ m: Metric) -> String {
        guard let a = aggregate(m) else { return "–" }
        if a.mean.isNaN { return "varies" }
        guard let s = a.std, s > 0 else { return m.format(a.mean) }
        return m.format(a.mean) + " ± " + m.format(s)
    }
}

extension ReportData {
    /// The runs grouped into configurations (experiment + label), in order of their first run.
    public var configs: [ReportConfig] {
        var order: [String] = []
        var groups: [String: [ReportRun]] = [:]
        for r in runs {
            let k = r.experiment + "\u{1}" + r.label
            if groups[k] == nil { order.append(k) }
            groups[k, default: []].append(r)
        }
        return order.map { k in
            let rs = groups[k]!.sorted { $0.seed < $1.seed }
            return ReportConfig(experiment: rs[0].experiment, label: rs[0].label, kind: rs[0].kind, dataset: rs[0].dataset, runs: rs)
        }
    }
}
