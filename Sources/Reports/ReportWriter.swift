import Foundation
import Store
import MetricCatalogue

/// Writes `report.md` (figures as files beside it) and a self-contained `report.html` (inline
/// SVG, PNG as data URIs, no scripts, no network) from the store.
public enum ReportWriter {
    /// Returns the files written.
    @discardableResult
    public static func write(_ data: ReportData, title: String, to dir: String) throws -> [String] {
        guard !data.runs.isEmpty else { throw StoreError("report: no finished runs match") }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var written: [String] = []
        func save(_ name: String, _ bytes: [UInt8]) throws {
            let p = (dir as NSString).appendingPathComponent(name)
            try Data(bytes).write(to: URL(fileURLWithPath: p), options: .atomic)
            written.append(p)
        }

        var figures: [(file: String, caption: String, svg: String)] = [
            ("rd.svg", "PSNR against bits per byte. Filled circles: capacity L·log2V/(H·W·C); hollow diamonds: the real rate of the eval token stream under an adaptive arithmetic coder. Dashed line: the data's own lossless bits per byte (the budget). Lossless runs sit on the ∞ row.", Figures.rateDistortion(data.runs).svg()),
            ("budget.svg", "Each run's capacity and real token rate against the data's lossless bits per byte.", Figures.budget(data.runs).svg()),
        ]
        for (key, chart) in Figures.curves(data.runs, data.metrics) {
            figures.append(("curve-\(key).svg", "Training curve: \(key) per run.", chart.svg()))
        }
        for fig in figures { try save(fig.file, Array(fig.svg.utf8)) }

        // Reconstruction grid from the runs' stored strips.
        var gridRows: [String] = []
        var gridPNG: [UInt8]? = nil
        if let originals = data.runs.lazy.compactMap({ $0.artifacts["originals"] }).first(where: { FileManager.default.fileExists(atPath: $0) }) {
            let withStrips = data.runs.filter { ($0.artifacts["recon"]).map { FileManager.default.fileExists(atPath: $0) } ?? false }
            if !withStrips.isEmpty {
                gridPNG = try? ReconstructionGrid.compose(strips: [originals] + withStrips.map { $0.artifacts["recon"]! })
                if let g = gridPNG {
                    try save("reconstructions.png", g)
                    gridRows = ["originals"] + withStrips.map { "#\($0.id) \($0.label) — PSNR \(Metric.psnr.format($0.value(.psnr)))" }
                }
            }
        }

        let table = ReportTable.rows(data.runs)
        let runsLine = "\(data.runs.count) runs of \(Set(data.runs.map(\.experiment)).sorted().joined(separator: ", ")) · datasets: \(Set(data.runs.map(\.dataset)).sorted().joined(separator: ", ")) · code \(Set(data.runs.map(\.codeVersion)).sorted().joined(separator: ", "))"
        let splits = Set(data.runs.compactMap { $0.params["dataset.split"] }).sorted()
        let environments = Set(data.runs.map(\.environment)).sorted()

        // Markdown
        var md = "# \(title)\n\n\(runsLine)\n\n"
        for s in splits { md += "- split: \(s)\n" }
        for e in environments { md += "- compute: \(e)\n" }
        md += "\n## Results\n\n" + ReportTable.markdown(table) + "\n"
        md += "### Definitions\n\n" + data.definitions.map { "- **\($0.key)**: \($0.text)" }.joined(separator: "\n") + "\n\n"
        md += "## Figures\n\n"
        for fig in figures { md += "![\(fig.file)](\(fig.file))\n\n\(fig.caption)\n\n" }
        if gridPNG != nil {
            md += "## Reconstructions\n\n![reconstructions](reconstructions.png)\n\nRows, top to bottom: " + gridRows.joined(separator: "; ") + ".\n"
        }
        try save("report.md", Array(md.utf8))

        // HTML
        var html = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"/><title>\(esc(title))</title>
        <style>body{font-family:Helvetica,Arial,sans-serif;max-width:1100px;margin:24px auto;padding:0 16px;color:#222}
        table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}
        th{background:#f3f3f3}td.l,th.l{text-align:left}figure{margin:18px 0}figcaption{font-size:13px;color:#444;max-width:760px}
        img.grid{image-rendering:pixelated;max-width:100%}</style></head><body>
        <h1>\(esc(title))</h1><p>\(esc(runsLine))</p>\(splits.map { "<p>split: \(esc($0))</p>" }.joined())\(environments.map { "<p>compute: \(esc($0))</p>" }.joined())
        <h2>Results</h2>\(ReportTable.html(table))
        <h3>Definitions</h3><ul>\(data.definitions.map { "<li><b>\(esc($0.key))</b>: \(esc($0.text))</li>" }.joined())</ul>
        <h2>Figures</h2>

        """
        for fig in figures { html += "<figure>\(fig.svg)<figcaption>\(esc(fig.caption))</figcaption></figure>\n" }
        if let g = gridPNG {
            html += "<h2>Reconstructions</h2><figure><img class=\"grid\" alt=\"reconstructions\" src=\"data:image/png;base64,\(Data(g).base64EncodedString())\"/><figcaption>Rows, top to bottom: \(esc(gridRows.joined(separator: "; ")))</figcaption></figure>\n"
        }
        html += "</body></html>\n"
        try save("report.html", Array(html.utf8))
        return written
    }
}

/// The results table: columns and cells, formatted from stored numbers by the metric catalogue.
enum ReportTable {
    enum Column { case run, tokenizer, config, metric(Metric) }
    static let columns: [(column: Column, title: String)] = [(.run, "run"), (.tokenizer, "tokenizer"), (.config, "config")]
        + [Metric.tokensPerImage, .log2Vocab, .codebookSize, .usage, .perplexity, .psnr, .ssim, .capacityBPB, .tokenRateBPB, .deficitBPB, .trainSeconds]
            .map { (.metric($0), $0.title) }
    static let leftAligned: Set<String> = ["run", "tokenizer", "config"]

    static func rows(_ runs: [ReportRun]) -> [[String]] {
        runs.map { r in
            columns.map { c in
                switch c.column {
                case .run: return "#\(r.id)"
                case .tokenizer: return r.kind
                case .config: return r.config
                case .metric(let m) where m == .codebookSize && r.value(.codebookSize) == nil:
                    return r.value(.log2Vocab).map { "2^" + Metric.log2Vocab.format($0) } ?? "–"
                case .metric(let m): return m.format(r.value(m))
                }
            }
        }
    }

    static func markdown(_ rows: [[String]]) -> String {
        var s = "| " + columns.map(\.title).joined(separator: " | ") + " |\n"
        s += "|" + columns.map { leftAligned.contains($0.title) ? ":---" : "---:" }.joined(separator: "|") + "|\n"
        for r in rows { s += "| " + r.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n" }
        return s
    }

    static func html(_ rows: [[String]]) -> String {
        var s = "<table><thead><tr>" + columns.map { "<th class=\"\(leftAligned.contains($0.title) ? "l" : "")\">\(esc($0.title))</th>" }.joined() + "</tr></thead><tbody>\n"
        for r in rows {
            s += "<tr>" + zip(columns, r).map { "<td class=\"\(leftAligned.contains($0.title) ? "l" : "")\">\(esc($1))</td>" }.joined() + "</tr>\n"
        }
        return s + "</tbody></table>\n"
    }
}
