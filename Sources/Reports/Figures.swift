import Foundation
import MetricCatalogue

/// The report's figures, each built from stored numbers only.
enum Figures {
    /// A colour per tokenizer family, stable across figures.
    static func colors(_ kinds: [String]) -> [String: String] {
        var out: [String: String] = [:]
        for k in kinds where out[k] == nil { out[k] = Chart.palette[out.count % Chart.palette.count] }
        return out
    }

    /// The data's lossless bits per byte (the budget) per dataset, as stored with the runs.
    static func budgetLines(_ runs: [ReportRun]) -> [(x: Double, label: String)] {
        var seen: [String: Double] = [:]
        for r in runs { if let b = r.value(.dataBPB), seen[r.dataset] == nil { seen[r.dataset] = b } }
        return seen.sorted { $0.key < $1.key }.map { (x: $0.value, label: String(format: "%@ lossless: %.2f bits/byte", $0.key, $0.value)) }
    }

    /// A configuration's point: the means over its seeds of x and y, with y's standard deviation.
    static func point(_ c: ReportConfig, x: Metric, y: Metric) -> (p: (x: Double, y: Double), yErr: Double, xErr: Double)? {
        guard let ax = c.aggregate(x), let ay = c.aggregate(y), !ax.mean.isNaN, !ay.mean.isNaN else { return nil }
        return ((ax.mean, ay.mean), ay.std ?? 0, ax.std ?? 0)
    }

    /// PSNR against bits per byte, a point per configuration: capacity (filled) and real token rate
    /// (hollow) per family, error bars ± one std over seeds, the single seeds as dots.
    static func rateDistortion(_ configs: [ReportConfig], y: Metric = .psnr) -> Chart {
        var c = y == .psnr
            ? Chart(title: "Rate–distortion: PSNR against bits per byte", xLabel: "bits per raw byte (log scale)", yLabel: "PSNR (dB, per-image mean)", logX: true)
            : Chart(title: "Rate–distortion: \(y.title) against bits per byte", xLabel: "bits per raw byte (log scale)", yLabel: y.title, logX: true)
        let kinds = orderedKinds(configs.map(\.kind))
        let colors = Self.colors(kinds)
        let seeds = configs.contains { $0.n > 1 }
        for kind in kinds {
            let cs = configs.filter { $0.kind == kind }
            for (x, marker, filled, name) in [(Metric.capacityBPB, Chart.Marker.circle, true, "capacity"), (.tokenRateBPB, .diamond, false, "token rate")] {
                let pts = cs.compactMap { point($0, x: x, y: y) }.sorted { $0.p.x < $1.p.x }
                guard !pts.isEmpty else { continue }
                c.series.append(.init(name: "\(kind): \(name)", color: colors[kind]!, marker: marker, filled: filled, points: pts.map(\.p),
                                      yErrors: seeds ? pts.map(\.yErr) : nil))
                if seeds {
                    let dots = cs.flatMap { cfg in cfg.runs.compactMap { r -> (x: Double, y: Double)? in
                        guard let a = r.value(x), let b = r.value(y) else { return nil }; return (a, b) } }
                    c.series.append(.init(name: "\(kind): \(name) seeds", color: colors[kind]!, points: dots, dots: true))
                }
            }
        }
        c.verticalLines = budgetLines(configs.flatMap(\.runs))
        return c
    }

    /// Codebook usage (and perplexity / V) against log2 V, a point per configuration with V ≤ 2^24 (the
    /// vocabularies a model enumerates; raw patches have 2^32 and more); usage with error bars ± one std over seeds and the seeds as dots.
    /// Nil when fewer than two configurations qualify.
    static func usageAgainstVocabulary(_ configs: [ReportConfig]) -> Chart? {
        let qualifying = configs.filter { c in (c.aggregate(.log2Vocab)?.mean).map { $0 <= 24 } ?? false && c.aggregate(.usage) != nil }
        guard qualifying.count >= 2 else { return nil }
        var c = Chart(title: "Codebook usage against log2 V", xLabel: "log2 V (bits per token)", yLabel: "fraction of the V codes")
        let kinds = orderedKinds(qualifying.map(\.kind))
        let colors = Self.colors(orderedKinds(configs.map(\.kind)))
        let seeds = qualifying.contains { $0.n > 1 }
        for kind in kinds {
            let cs = qualifying.filter { $0.kind == kind }
            let used = cs.compactMap { point($0, x: .log2Vocab, y: .usage) }.sorted { $0.p.x < $1.p.x }
            if !used.isEmpty {
                c.series.append(.init(name: "\(kind): usage", color: colors[kind]!, marker: .circle, filled: true, points: used.map(\.p),
                                      yErrors: seeds ? used.map(\.yErr) : nil))
                if seeds {
                    let dots = cs.flatMap { cfg in cfg.runs.compactMap { r -> (x: Double, y: Double)? in
                        guard let a = r.value(.log2Vocab), let b = r.value(.usage) else { return nil }; return (a, b) } }
                    c.series.append(.init(name: "\(kind): usage seeds", color: colors[kind]!, points: dots, dots: true))
                }
            }
            // perplexity / V: the share of the codebook an equally used codebook of the same entropy would need
            let spread = cs.compactMap { cfg -> (x: Double, y: Double)? in
                guard let l = cfg.aggregate(.log2Vocab)?.mean, let p = cfg.aggregate(.perplexity)?.mean, p.isFinite else { return nil }
                return (l, p / pow(2, l))
            }.sorted { $0.x < $1.x }
            if !spread.isEmpty { c.series.append(.init(name: "\(kind): perplexity / V", color: colors[kind]!, marker: .diamond, filled: false, points: spread)) }
        }
        return c
    }

    /// For each configuration: capacity and token rate (mean ± std over seeds), and the AR prior's rate where
    /// probed (mean ± t 95% interval over probes), against the data's bits per byte.
    static func budget(_ configs: [ReportConfig]) -> Chart {
        var c = Chart(title: "Information budget per configuration", xLabel: "bits per raw byte (log scale)", yLabel: "", logX: true)
        c.categories = configs.map { "\($0.runs.map { "#\($0.id)" }.joined(separator: " ")) \($0.label)" }
        c.height = max(220, 90 + 22 * Double(configs.count))
        var cap: [(x: Double, y: Double)] = [], rate: [(x: Double, y: Double)] = [], rateErr: [Double] = []
        for (i, cfg) in configs.enumerated() {
            if let a = cfg.aggregate(.capacityBPB), a.mean.isFinite { cap.append((a.mean, Double(i))) }
            if let a = cfg.aggregate(.tokenRateBPB), a.mean.isFinite { rate.append((a.mean, Double(i))); rateErr.append(a.std ?? 0) }
        }
        c.series = [.init(name: "capacity L·log2V/(HWC)", color: "#1f77b4", marker: .circle, filled: true, points: cap)]
        if !rate.isEmpty {
            c.series.append(.init(name: "real token rate", color: "#d62728", marker: .diamond, filled: false, points: rate,
                                  xErrors: configs.contains { $0.n > 1 } ? rateErr : nil))
        }
        // what the AR prior pays (mean over probes, t 95% interval), where a configuration was probed
        var ar: [(x: Double, y: Double)] = [], arErr: [Double] = []
        for (i, cfg) in configs.enumerated() { if let a = cfg.probeInterval(.arBPB) { ar.append((a.mean, Double(i))); arErr.append(a.halfWidth ?? 0) } }
        if !ar.isEmpty { c.series.append(.init(name: "AR prior rate", color: "#2ca02c", marker: .square, filled: true, points: ar, xErrors: arErr)) }
        c.verticalLines = budgetLines(configs.flatMap(\.runs))
        return c
    }

    /// One chart per training metric against step: a line per run (learned runs only), one colour and
    /// one legend entry per configuration, so the seeds of a configuration read as a band.
    static func curves(_ configs: [ReportConfig], _ metrics: [Int64: [String: [(step: Int, value: Double)]]]) -> [(key: String, chart: Chart)] {
        var out: [(key: String, chart: Chart)] = []
        for metric in Metric.curves {
            let key = metric.key, label = metric.title
            var c = Chart(title: "\(label) against training step", xLabel: "training step", yLabel: label)
            for (i, cfg) in configs.enumerated() {
                var first = true
                for r in cfg.runs {
                    guard let pts = metrics[r.id]?[key], pts.count > 1 else { continue }
                    var se = Chart.Series(name: cfg.n > 1 ? "\(cfg.label) (\(cfg.n) seeds)" : "#\(r.id) \(r.label)", color: Chart.palette[i % Chart.palette.count],
                                          connect: true, points: pts.map { (Double($0.step), $0.value) })
                    se.inLegend = first
                    first = false
                    c.series.append(se)
                }
            }
            if !c.series.isEmpty { out.append((key, c)) }
        }
        return out
    }

    static func orderedKinds(_ kinds: [String]) -> [String] {
        var seen: [String] = []
        for k in kinds where !seen.contains(k) { seen.append(k) }
        return seen
    }
}
