import Foundation
import Store
import MetricCatalogue

// AR probing in the reports (ARCHITECTURE.md, "AR probing"): each run's finished probes (one per prior
// seed) as stored, aggregated over the probes of a configuration (every seed of the tokenizer × every
// seed of the prior), the AR rows of the budget, the AR-rate figures, the samples.

extension ReportConfig {
    /// A probe metric over every probe of the configuration's runs.
    public func probeValues(_ m: Metric) -> [Double] { runs.flatMap { $0.probes.compactMap { $0.results[m.key] } } }

    /// Mean and Student's t 95% interval over the probes (nil when no probe recorded it).
    public func probeInterval(_ m: Metric) -> Interval? {
        let v = probeValues(m).filter(\.isFinite)
        return v.isEmpty ? nil : Statistics.tInterval(v)
    }

    /// "mean ± half-width (n)" of a probe metric.
    public func probeCell(_ m: Metric) -> String {
        guard let i = probeInterval(m) else { return "–" }
        return m.format(i.mean) + (i.halfWidth.map { " ± " + m.format($0) } ?? "") + " (\(i.n))"
    }

    public var hasProbes: Bool { runs.contains { !$0.probes.isEmpty } }
}

/// The AR probing table and its ranking: one row per probed configuration.
enum ProbeTable {
    static let titles = ["runs", "config", "probes", "capacity bpb", "token rate bpb", "AR bpb ± 95%", "data bpb", "AR bits/token ± 95%", "log2 V",
                         "PSNR dB", "rFID", "gFID ± 95%", "samples' data bpb"]
    static let intro = "What a generator pays for the tokens: a causal transformer prior (one per seed of [ar_probe], on every seed of the tokenizer) trained on the train split's tokens, measured on the eval split's. AR cells are the mean over the probes with a Student's t 95% interval and their number in brackets; capacity, token rate, data rate, PSNR and rFID are the tokenizer runs' means. The AR rate should sit below the adaptive coder's token rate (the prior learns from the whole train split, the coder adapts on the eval tokens alone) and at or below capacity."

    static func rows(_ configs: [ReportConfig]) -> [[String]] {
        configs.filter(\.hasProbes).map { c in
            [c.runs.map { "#\($0.id)" }.joined(separator: " "), c.label, String(c.probeValues(.arBPB).count),
             c.cell(.capacityBPB), c.cell(.tokenRateBPB), c.probeCell(.arBPB), c.cell(.dataBPB), c.probeCell(.arBitsPerToken), c.cell(.log2Vocab),
             c.cell(.psnr), c.cell(.rfid), c.probeCell(.gfid), c.probeCell(.sampleDataBPB)]
        }
    }

    /// The ranks of the probed configurations by PSNR (higher first), rFID, AR bpb and gFID (lower first),
    /// and whether each ordering's neighbours are separated by their intervals.
    static let rankTitles = ["config", "rank by PSNR", "rank by rFID", "rank by AR bpb", "rank by gFID"]
    static func ranks(_ configs: [ReportConfig]) -> [[String]] {
        let probed = configs.filter(\.hasProbes)
        // keyed by the configuration's place (two experiments may share a label)
        func order(_ value: (ReportConfig) -> Double?, higherFirst: Bool) -> [Int: Int] {
            let have = probed.enumerated().compactMap { i, c in value(c).map { (i, $0) } }.filter { $0.1.isFinite || higherFirst }
            let sorted = have.sorted { higherFirst ? $0.1 > $1.1 : $0.1 < $1.1 }
            return Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($1.0, $0 + 1) })
        }
        let psnr = order({ $0.aggregate(.psnr)?.mean }, higherFirst: true), rfid = order({ $0.aggregate(.rfid)?.mean }, higherFirst: false)
        let ar = order({ $0.probeInterval(.arBPB)?.mean }, higherFirst: false), gfid = order({ $0.probeInterval(.gfid)?.mean }, higherFirst: false)
        return probed.enumerated().map { i, c in [name(c, among: probed)] + [psnr, rfid, ar, gfid].map { $0[i].map(String.init) ?? "–" } }
    }

    /// A probed configuration's name in the ranking lines: its label, with its experiment when the report spans several.
    static func name(_ c: ReportConfig, among probed: [ReportConfig]) -> String {
        Set(probed.map(\.experiment)).count > 1 ? c.experiment + ": " + c.label : c.label
    }

    /// Pairs of probed configurations adjacent in AR bpb whose 95% intervals overlap (not separated at this many seeds).
    static func overlaps(_ configs: [ReportConfig], _ m: Metric) -> [String] {
        let all = configs.filter(\.hasProbes)
        let probed = all.compactMap { c in c.probeInterval(m).map { (name(c, among: all), $0) } }.sorted { $0.1.mean < $1.1.mean }
        return zip(probed, probed.dropFirst()).compactMap { a, b in
            guard let ah = a.1.high, let bl = b.1.low else { return nil }
            return ah >= bl ? "\(a.0) and \(b.0)" : nil
        }
    }
}

extension Figures {
    /// PSNR (or rFID) against the AR prior's bits per byte: a point per probed configuration, horizontal
    /// error bars its t 95% interval over probes, vertical ± one std over the tokenizer's seeds.
    static func arRate(_ configs: [ReportConfig], y: Metric) -> Chart? {
        let probed = configs.filter { $0.hasProbes && $0.aggregate(y) != nil }
        guard !probed.isEmpty else { return nil }
        var c = Chart(title: "\(y.title) against what the AR prior pays", xLabel: "AR prior bits per raw byte (eval tokens)", yLabel: y == .psnr ? "PSNR (dB, per-image mean)" : y.title)
        for (i, cfg) in probed.enumerated() {
            guard let ar = cfg.probeInterval(.arBPB), let a = cfg.aggregate(y), a.mean.isFinite else { continue }
            c.series.append(.init(name: "#\(cfg.runs.map { String($0.id) }.joined(separator: " #")) \(cfg.label)", color: Chart.palette[i % Chart.palette.count],
                                  marker: .square, filled: true, points: [(ar.mean, a.mean)], yErrors: [a.std ?? 0], xErrors: [ar.halfWidth ?? 0]))
        }
        return c.series.isEmpty ? nil : c
    }
}

extension ReportWriter {
    /// Each probed configuration's first samples grid (its lowest tokenizer seed, lowest prior seed), copied into the report folder.
    static func sampleGrids(_ configs: [ReportConfig]) -> [(file: String, caption: String, source: String)] {
        configs.compactMap { c in
            for r in c.runs { for p in r.probes {
                if let path = p.probe.samplesPath, FileManager.default.fileExists(atPath: path) {
                    return ("samples-\(fileComponent(c.experiment + "-" + c.label)).png", "#\(r.id) \(c.label): samples of the AR prior (seed \(p.probe.seed), temperature 1), decoded by the tokenizer — gFID \(Metric.gfid.format(p.results[Metric.gfid.key])) for this probe", path)
                }
            } }
            return nil
        }
    }
}
