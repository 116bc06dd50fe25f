import Foundation
import MetricCatalogue

/// The report's figures, each built from stored numbers only.
enum Figures {
    /// A colour per tokenizer family, stable across figures.
    static func colors(_ runs: [ReportRun]) -> [String: String] {
        var out: [String: String] = [:]
        for k in runs.map(\.kind) where out[k] == nil { out[k] = Chart.palette[out.count % Chart.palette.count] }
        return out
    }

    /// The data's lossless bits per byte (the budget) per dataset, as stored with the runs.
    static func budgetLines(_ runs: [ReportRun]) -> [(x: Double, label: String)] {
        var seen: [String: Double] = [:]
        for r in runs { if let b = r.value(.dataBPB), seen[r.dataset] == nil { seen[r.dataset] = b } }
        return seen.sorted { $0.key < $1.key }.map { (x: $0.value, label: String(format: "%@ lossless: %.2f bits/byte", $0.key, $0.value)) }
    }

    /// PSNR against bits per byte: capacity (filled) and real token rate (hollow) per family.
    static func rateDistortion(_ runs: [ReportRun]) -> Chart {
        var c = Chart(title: "Rate–distortion: PSNR against bits per byte", xLabel: "bits per raw byte (log scale)", yLabel: "PSNR (dB, per-image mean)", logX: true)
        let colors = Self.colors(runs)
        for kind in orderedKinds(runs) {
            let rs = runs.filter { $0.kind == kind }
            let cap = rs.compactMap { r -> (x: Double, y: Double)? in
                guard let x = r.value(.capacityBPB), let y = r.value(.psnr) else { return nil }; return (x, y)
            }.sorted { $0.x < $1.x }
            c.series.append(.init(name: "\(kind): capacity", color: colors[kind]!, marker: .circle, filled: true, points: cap))
            let rate = rs.compactMap { r -> (x: Double, y: Double)? in
                guard let x = r.value(.tokenRateBPB), let y = r.value(.psnr) else { return nil }; return (x, y)
            }.sorted { $0.x < $1.x }
            if !rate.isEmpty { c.series.append(.init(name: "\(kind): token rate", color: colors[kind]!, marker: .diamond, filled: false, points: rate)) }
        }
        c.verticalLines = budgetLines(runs)
        return c
    }

    /// For each run: capacity and token rate against the data's bits per byte.
    static func budget(_ runs: [ReportRun]) -> Chart {
        var c = Chart(title: "Information budget per run", xLabel: "bits per raw byte (log scale)", yLabel: "", logX: true)
        c.categories = runs.map { "#\($0.id) \($0.label)" }
        c.height = max(220, 90 + 22 * Double(runs.count))
        var cap: [(x: Double, y: Double)] = [], rate: [(x: Double, y: Double)] = []
        for (i, r) in runs.enumerated() {
            if let v = r.value(.capacityBPB) { cap.append((v, Double(i))) }
            if let v = r.value(.tokenRateBPB) { rate.append((v, Double(i))) }
        }
        c.series = [.init(name: "capacity L·log2V/(HWC)", color: "#1f77b4", marker: .circle, filled: true, points: cap)]
        if !rate.isEmpty { c.series.append(.init(name: "real token rate", color: "#d62728", marker: .diamond, filled: false, points: rate)) }
        c.verticalLines = budgetLines(runs)
        return c
    }

    /// One chart per training metric against step, a line per run (learned runs only).
    static func curves(_ runs: [ReportRun], _ metrics: [Int64: [String: [(step: Int, value: Double)]]]) -> [(key: String, chart: Chart)] {
        var out: [(key: String, chart: Chart)] = []
        for metric in Metric.curves {
            let key = metric.key, label = metric.title
            var c = Chart(title: "\(label) against training step", xLabel: "training step", yLabel: label)
            for (i, r) in runs.enumerated() {
                guard let pts = metrics[r.id]?[key], pts.count > 1 else { continue }
                c.series.append(.init(name: "#\(r.id) \(r.label)", color: Chart.palette[i % Chart.palette.count], connect: true,
                                      points: pts.map { (Double($0.step), $0.value) }))
            }
            if !c.series.isEmpty { out.append((key, c)) }
        }
        return out
    }

    static func orderedKinds(_ runs: [ReportRun]) -> [String] {
        var seen: [String] = []
        for r in runs where !seen.contains(r.kind) { seen.append(r.kind) }
        return seen
    }
}
