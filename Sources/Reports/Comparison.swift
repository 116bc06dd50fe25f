import Foundation
import Store
import MetricCatalogue

/// A paired comparison of two runs, or of two configurations seed by seed (`tokbench compare`, the
/// report's ranking table). Definitions: `paired_images` and `paired_seeds` in the catalogue.
public struct PairedComparison {
    public struct SeedPair {
        public var seed: UInt64
        public var a: ReportRun, b: ReportRun
        /// Per-image a − b over the shared eval images (normal 95% interval).
        public var images: Interval
    }
    public var metric: Metric
    public var a: ReportConfig, b: ReportConfig
    /// One entry per seed present on both sides (a single pair when two runs are compared).
    public var pairs: [SeedPair]
    /// Difference of the runs' means across the paired seeds (Student's t 95% interval; halfWidth nil when n < 2).
    public var acrossSeeds: Interval { Statistics.tInterval(pairs.map { $0.images.mean }) }
    /// The interval that decides: across seeds when there are two or more, else over images.
    public var deciding: Interval { pairs.count >= 2 ? acrossSeeds : pairs[0].images }
    public var distinguishable: Bool { deciding.excludesZero }
}

/// Why two runs cannot be paired, in one line.
public struct ComparisonError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

public enum Comparison {
    /// Keys of the metrics stored per image (what `compare --metric` accepts), PSNR first.
    public static var metricKeys: [String] { Metric.perImage.map(\.key) }

    /// `compare` by metric key (one of `metricKeys`).
    public static func compare(store: ResultStore, _ a: String, _ b: String, experiment: String?, metricKey: String) throws -> PairedComparison {
        guard let m = Metric.perImage.first(where: { $0.key == metricKey }) else { throw ComparisonError("\(metricKey) is not stored per image") }
        return try compare(store: store, a, b, experiment: experiment, metric: m)
    }

    /// Pairs two configurations seed by seed. `values(run, metric)` gives a run's per-image values.
    /// Refuses (throws) when a pair lacks per-image values or was evaluated on different images.
    public static func compare(_ a: ReportConfig, _ b: ReportConfig, metric: Metric,
                               values: (ReportRun, Metric) throws -> [Double]?) throws -> PairedComparison {
        var pairs: [PairedComparison.SeedPair] = []
        let single = a.n == 1 && b.n == 1
        for ra in a.runs {
            guard let rb = single ? b.runs[0] : b.runs.first(where: { $0.seed == ra.seed }) else { continue }
            guard let va = try values(ra, metric) else { throw ComparisonError("run \(ra.id) has no per-image \(metric.key) values (recorded before they were stored); rerun it") }
            guard let vb = try values(rb, metric) else { throw ComparisonError("run \(rb.id) has no per-image \(metric.key) values (recorded before they were stored); rerun it") }
            let key = evalFingerprintParam
            guard let fa = ra.params[key], let fb = rb.params[key] else {
                throw ComparisonError("runs \(ra.id) and \(rb.id): no eval-image fingerprint (\(key)) recorded, so they cannot be shown to share eval images")
            }
            guard fa == fb, va.count == vb.count else {
                throw ComparisonError("runs \(ra.id) and \(rb.id) were evaluated on different eval images (\(va.count) vs \(vb.count) images, \(key) \(fa.prefix(12)) vs \(fb.prefix(12))); a paired comparison needs the same images")
            }
            pairs.append(.init(seed: ra.seed, a: ra, b: rb, images: Statistics.pairedDifference(va, vb)))
        }
        guard !pairs.isEmpty else {
            throw ComparisonError("\(a.label) (seeds \(a.runs.map { String($0.seed) }.joined(separator: ","))) and \(b.label) (seeds \(b.runs.map { String($0.seed) }.joined(separator: ","))) share no seed to pair")
        }
        return PairedComparison(metric: metric, a: a, b: b, pairs: pairs)
    }

    /// Resolves each side (a run id, or a configuration label within `experiment` or the one experiment
    /// that has it) from the store and compares them.
    public static func compare(store: ResultStore, _ a: String, _ b: String, experiment: String?, metric: Metric) throws -> PairedComparison {
        let data = try ReportData.load(store: store, experiments: experiment.map { [$0] } ?? [], filter: nil)
        func side(_ s: String) throws -> ReportConfig {
            if let id = Int64(s) {
                guard let r = data.runs.first(where: { $0.id == id }) else { throw ComparisonError("run \(id): no finished run with this id\(experiment.map { " in experiment \($0)" } ?? "")") }
                return ReportConfig(experiment: r.experiment, label: r.label, kind: r.kind, dataset: r.dataset, runs: [r])
            }
            let matches = data.configs.filter { $0.label == s }
            if matches.count > 1 {
                throw ComparisonError("\(s): a configuration of several experiments (\(matches.map(\.experiment).joined(separator: ", "))); give --experiment")
            }
            guard let c = matches.first else {
                let labels = Set(data.configs.map(\.label)).sorted()
                throw ComparisonError("\(s): no finished run has this id or label; labels: \(labels.prefix(12).joined(separator: "; "))\(labels.count > 12 ? "; …" : "")")
            }
            return c
        }
        return try compare(try side(a), try side(b), metric: metric) { r, m in try store.imageValues(runID: r.id, metric: m) }
    }

    /// Signed number in the metric's format ("+0.35").
    static func signed(_ m: Metric, _ v: Double) -> String { (v >= 0 ? "+" : "") + m.format(v) }

    static func interval(_ m: Metric, _ i: Interval) -> String {
        guard let lo = i.low, let hi = i.high else { return signed(m, i.mean) + " (no interval: n = \(i.n))" }
        return "\(signed(m, i.mean)), 95% interval [\(signed(m, lo)), \(signed(m, hi))]"
    }

    /// The comparison as `tokbench compare` prints it.
    public static func text(_ c: PairedComparison) -> String {
        let m = c.metric, unit = m.unit.isEmpty ? "" : " " + m.unit
        var s = "\(m.key): A = \(c.a.label) · B = \(c.b.label)\n"
        let first = c.pairs[0]
        s += "eval images: \(first.images.n), identical on both sides (\(evalFingerprintParam) \(first.a.params[evalFingerprintParam]?.prefix(12) ?? ""))\n"
        for p in c.pairs {
            s += "seed \(p.seed): run \(p.a.id) − run \(p.b.id): \(interval(m, p.images))\(unit) over \(p.images.n) images"
            s += p.images.excludesZero ? "\n" : " (not distinguishable)\n"
        }
        if c.pairs.count >= 2 {
            let x = c.acrossSeeds
            s += "across \(x.n) seeds: mean A − B \(interval(m, x))\(unit), std \(m.format(x.std ?? 0)) (Student's t)\n"
        }
        s += c.distinguishable
            ? "verdict: A − B is distinguishable from zero (\(c.pairs.count >= 2 ? "across seeds" : "over images, one seed"))\n"
            : "verdict: not distinguishable from zero (\(c.pairs.count >= 2 ? "across seeds" : "over images, one seed"))\n"
        if c.pairs.count < 2 { s += "note: one seed per side: the interval covers the eval images only, not training variance across seeds\n" }
        return s
    }

    /// Chosen pairs of configuration labels ("A" vs "B"), compared as the ranking table compares neighbours;
    /// an unknown label is an error naming it.
    static func chosenPairs(_ data: ReportData, _ pairs: [(String, String)], metric: Metric) throws -> [(a: ReportConfig, b: ReportConfig, result: Result<PairedComparison, ComparisonError>)] {
        let configs = data.configs
        return try pairs.map { (x, y) in
            guard let a = configs.first(where: { $0.label == x }) else { throw ComparisonError("report --pair: no configuration labelled \(x) among the reported runs") }
            guard let b = configs.first(where: { $0.label == y }) else { throw ComparisonError("report --pair: no configuration labelled \(y) among the reported runs") }
            do { return (a, b, .success(try compare(a, b, metric: metric) { r, m in data.imageValues[r.id]?[m.key] })) }
            catch let e as ComparisonError { return (a, b, .failure(e)) }
        }
    }

    /// The report's ranking check: within each dataset (across the report's experiments: pairs need
    /// identical eval images, which `compare` checks), configurations sorted by mean metric (best first)
    /// and each compared with the next.
    static func adjacentPairs(_ data: ReportData, metric: Metric) -> [(a: ReportConfig, b: ReportConfig, result: Result<PairedComparison, ComparisonError>)] {
        var out: [(a: ReportConfig, b: ReportConfig, result: Result<PairedComparison, ComparisonError>)] = []
        let groups = Dictionary(grouping: data.configs.filter { c in c.aggregate(metric).map { $0.mean.isFinite } ?? false }) { $0.dataset }
        for key in groups.keys.sorted() {
            let sorted = groups[key]!.sorted { (a, b) in
                let x = a.aggregate(metric)!.mean, y = b.aggregate(metric)!.mean
                return metric.direction == .lowerIsBetter ? x < y : x > y
            }
            for (a, b) in zip(sorted, sorted.dropFirst()) {
                do {
                    let c = try compare(a, b, metric: metric) { r, m in data.imageValues[r.id]?[m.key] }
                    out.append((a, b, .success(c)))
                } catch let e as ComparisonError {
                    out.append((a, b, .failure(e)))
                } catch {
                    out.append((a, b, .failure(ComparisonError("\(error)"))))
                }
            }
        }
        return out
    }
}
