import Foundation
import Store
import MetricCatalogue

/// Writes `report.md` (figures as files beside it) and a self-contained `report.html` (inline
/// SVG, PNG as data URIs, no scripts, no network) from the store.
public enum ReportWriter {
    /// A name read from the store made safe as one file-name component inside the report folder
    /// (anything but letters, digits and . _ - becomes _; a leading dot too).
    /// Creates the output folder, or says in one line why it cannot.
    static func makeFolder(_ dir: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
            guard isDir.boolValue else { throw StoreError("\(dir): exists and is not a folder (give -o a folder)") }
            guard access(dir, W_OK) == 0 else { throw StoreError("\(dir): folder is not writable") }
            return
        }
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw StoreError("\(dir): cannot create the folder (\(String(cString: strerror(errno))))")
        }
    }

    public static func fileComponent(_ s: String) -> String {
        let out = String(s.unicodeScalars.map { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) ? Character($0) : "_" })
        return out.isEmpty ? "_" : (out.first == "." ? "_" + out.dropFirst() : out)
    }

    /// Returns the files written.
    @discardableResult
    /// `pairs`: configuration labels to compare besides the ranking's neighbours (`report --pair A --pair B`).
    public static func write(_ data: ReportData, title: String, to dir: String, pairs: [(String, String)] = []) throws -> [String] {
        guard !data.runs.isEmpty else { throw StoreError("report: no finished runs match") }
        try makeFolder(dir)
        var written: [String] = []
        func save(_ name: String, _ bytes: [UInt8]) throws {
            let p = (dir as NSString).appendingPathComponent(name)
            try Data(bytes).write(to: URL(fileURLWithPath: p), options: .atomic)
            written.append(p)
        }

        let configs = data.configs
        let bars = configs.contains { $0.n > 1 } ? " Each point is a configuration's mean over its seeds, with an error bar of ± one standard deviation; small dots are the single seeds." : ""
        var figures: [(file: String, caption: String, svg: String)] = [
            ("rd.svg", "PSNR against bits per byte. Filled circles: capacity L·log2V/(H·W·C); hollow diamonds: the real rate of the eval token stream under an adaptive arithmetic coder. Dashed line: the data's own lossless bits per byte (the budget). Lossless runs sit on the ∞ row." + bars, Figures.rateDistortion(configs).svg()),
            ("budget.svg", "Each configuration's capacity and real token rate against the data's lossless bits per byte" + (configs.contains(where: \.hasProbes) ? ", with the AR prior's rate (green squares: mean over probes, t 95% interval) where probed." : ".") + bars, Figures.budget(configs).svg()),
        ]
        if configs.contains(where: { $0.aggregate(.rfid) != nil }) {
            figures.append(("rd-rfid.svg", "rFID against bits per byte (lower is better): the same points as the PSNR figure, with the Fréchet distance of the eval originals' and reconstructions' Inception features on the y axis (N = the eval images; see fid_inf for the N-free estimate)." + bars,
                            Figures.rateDistortion(configs, y: .rfid).svg()))
        }
        if let chart = Figures.arRate(configs, y: .psnr) {
            figures.append(("ar-psnr.svg", "PSNR against the AR prior's bits per byte on the eval tokens (what a generator pays), a point per probed configuration: horizontal bars the t 95% interval over the probes, vertical ± one std over the tokenizer's seeds.", chart.svg()))
        }
        if let chart = Figures.arRate(configs, y: .rfid) {
            figures.append(("ar-rfid.svg", "rFID against the AR prior's bits per byte on the eval tokens (as the PSNR figure; lower rFID is better).", chart.svg()))
        }
        if let usage = Figures.usageAgainstVocabulary(configs) {
            figures.append(("usage.svg", "Codebook usage (filled: the fraction of the V codes the eval tokens use at least once) and perplexity / V (hollow: 2^entropy of the eval tokens over V) against log2 V, for the configurations with V ≤ 2^24." + (bars.isEmpty ? "" : " A usage point is a configuration's mean over its seeds, with an error bar of ± one standard deviation and the single seeds as small dots; perplexity / V is the mean over the seeds."), usage.svg()))
        }
        for (key, chart) in Figures.curves(configs, data.metrics) {
            figures.append(("curve-\(fileComponent(key)).svg", "Training curve: \(key) per run.", chart.svg()))
        }
        for fig in figures { try save(fig.file, Array(fig.svg.utf8)) }

        // Reconstruction grid from the runs' stored strips.
        var gridRows: [String] = []
        var gridPNG: [UInt8]? = nil
        if let originals = data.runs.lazy.compactMap({ $0.artifacts["originals"] }).first(where: { FileManager.default.fileExists(atPath: $0) }) {
            // one row per configuration: its run with the lowest seed (a 3-seed sweep would triple the grid)
            let stored = data.runs.filter { ($0.artifacts["recon"]).map { FileManager.default.fileExists(atPath: $0) } ?? false }
            var seen = Set<String>()
            let firstSeeds = Set(stored.sorted { ($0.seed, $0.id) < ($1.seed, $1.id) }
                .filter { seen.insert($0.experiment + "\u{1}" + $0.label).inserted }.map(\.id))
            let withStrips = stored.filter { firstSeeds.contains($0.id) }
            if !withStrips.isEmpty {
                gridPNG = try? ReconstructionGrid.compose(strips: [originals] + withStrips.map { $0.artifacts["recon"]! })
                if let g = gridPNG {
                    try save("reconstructions.png", g)
                    gridRows = ["originals"] + withStrips.map { "#\($0.id) \($0.label), seed \($0.seed) — PSNR \(Metric.psnr.format($0.value(.psnr)))" }
                }
            }
        }

        let samples = sampleGrids(configs)
        for g in samples { if let bytes = FileManager.default.contents(atPath: g.source) { try save(g.file, [UInt8](bytes)) } }
        let probeRows = ProbeTable.rows(configs), rankRows = ProbeTable.ranks(configs)
        let overlapLine = ["AR bpb": ProbeTable.overlaps(configs, .arBPB), "gFID": ProbeTable.overlaps(configs, .gfid)]
            .sorted { $0.key < $1.key }.map { k, v in v.isEmpty ? "By \(k), neighbours' 95% intervals are all separated." : "By \(k), overlapping 95% intervals (order not established): " + v.joined(separator: "; ") + "." }
            .joined(separator: " ")
        let table = ReportTable.rows(configs)
        let ranking = RankingTable.rows(Comparison.adjacentPairs(data, metric: .psnr))
        let chosen = RankingTable.rows(try Comparison.chosenPairs(data, pairs, metric: .psnr))
        let seedsLine = configs.contains { $0.n > 1 }
            ? "Cells are mean ± standard deviation over the n seeds of a configuration (agg_seeds); PSNR ±95% (images) is the mean over its runs of each run's interval over its eval images (psnr_ci95)."
            : "One run per configuration: cells are single values; PSNR ±95% (images) is the run's interval over its eval images (psnr_ci95)."
        let rankingIntro = "Configurations in order of mean PSNR, each paired with the next: the difference A − B and its 95% interval, across seeds when both have two or more (paired_seeds), else over the eval images of one seed (paired_images). Not distinguishable: the interval contains zero."
        let runsLine = "\(data.runs.count) runs of \(Set(data.runs.map(\.experiment)).sorted().joined(separator: ", ")) · datasets: \(Set(data.runs.map(\.dataset)).sorted().joined(separator: ", ")) · code \(Set(data.runs.map(\.codeVersion)).sorted().joined(separator: ", "))"
        let splits = Set(data.runs.compactMap { $0.params["dataset.split"] }).sorted()
        let environments = Set(data.runs.map(\.environment)).sorted()

        // Markdown: results, figures, reconstructions, then the definitions (complete, last). Text from the
        // store (labels, titles) has its markup characters escaped, so a label cannot carry HTML into a page.
        var md = "# \(escapeMarkup(title))\n\n\(escapeMarkup(runsLine))\n\n"
        for s in splits { md += "- split: \(escapeMarkup(s))\n" }
        for e in environments { md += "- compute: \(escapeMarkup(e))\n" }
        let titles = ReportTable.columns(for: configs).map(\.title)
        md += "\n## Results\n\n" + seedsLine + "\n\n" + ReportTable.markdown(table, columns: titles) + "\n"
        if !ranking.isEmpty { md += "### Which differences are real\n\n" + rankingIntro + "\n\n" + ReportTable.markdown(ranking, columns: RankingTable.titles) + "\n" }
        if !chosen.isEmpty { md += "### Chosen comparisons\n\n" + ReportTable.markdown(chosen, columns: RankingTable.titles) + "\n" }
        if !probeRows.isEmpty {
            md += "## AR probing\n\n" + ProbeTable.intro + "\n\n" + ReportTable.markdown(probeRows, columns: ProbeTable.titles) + "\n"
            md += "Rankings of the probed configurations (1 = best). " + overlapLine + "\n\n" + ReportTable.markdown(rankRows, columns: ProbeTable.rankTitles) + "\n"
        }
        md += "## Figures\n\n"
        for fig in figures { md += "![\(fig.file)](\(fig.file))\n\n\(fig.caption)\n\n" }
        if gridPNG != nil {
            md += "## Reconstructions\n\n![reconstructions](reconstructions.png)\n\nOne row per configuration (its lowest seed). Rows, top to bottom: " + escapeMarkup(gridRows.joined(separator: "; ")) + ".\n\n"
        }
        if !samples.isEmpty {
            md += "## Samples of the AR priors\n\n"
            for g in samples { md += "![\(g.file)](\(g.file))\n\n" + escapeMarkup(g.caption) + "\n\n" }
        }
        md += "## Definitions\n\n" + data.definitions.map { "- **\(escapeMarkup($0.key))**: \(escapeMarkup($0.text))" }.joined(separator: "\n") + "\n"
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
        <h2>Results</h2><p>\(esc(seedsLine))</p>\(ReportTable.html(table, columns: titles))
        \(ranking.isEmpty ? "" : "<h3>Which differences are real</h3><p>\(esc(rankingIntro))</p>" + ReportTable.html(ranking, columns: RankingTable.titles))
        \(chosen.isEmpty ? "" : "<h3>Chosen comparisons</h3>" + ReportTable.html(chosen, columns: RankingTable.titles))
        \(probeRows.isEmpty ? "" : "<h2>AR probing</h2><p>\(esc(ProbeTable.intro))</p>" + ReportTable.html(probeRows, columns: ProbeTable.titles) + "<p>Rankings (1 = best). \(esc(overlapLine))</p>" + ReportTable.html(rankRows, columns: ProbeTable.rankTitles))
        <h2>Figures</h2>

        """
        for fig in figures { html += "<figure>\(fig.svg)<figcaption>\(esc(fig.caption))</figcaption></figure>\n" }
        if gridPNG != nil {   // the grid is the report folder's reconstructions.png (embedding it would push a 3-seed report past 1 MB)
            html += "<h2>Reconstructions</h2><figure><img class=\"grid\" alt=\"reconstructions\" src=\"reconstructions.png\"/><figcaption>One row per configuration (its lowest seed). Rows, top to bottom: \(esc(gridRows.joined(separator: "; ")))</figcaption></figure>\n"
        }
        if !samples.isEmpty {
            html += "<h2>Samples of the AR priors</h2>" + samples.map { "<figure><img class=\"grid\" alt=\"samples\" src=\"\(esc($0.file))\"/><figcaption>\(esc($0.caption))</figcaption></figure>" }.joined() + "\n"
        }
        html += "<details><summary><h2 style=\"display:inline\">Definitions</h2> (\(data.definitions.count) terms)</summary><ul>"
            + data.definitions.map { "<li><b>\(esc($0.key))</b>: \(esc($0.text))</li>" }.joined() + "</ul></details>\n"
        html += "</body></html>\n"
        try save("report.html", Array(html.utf8))
        return written
    }
}

/// The results table: one row per configuration (runs differing only in seed), cells formatted
/// from stored numbers by the metric catalogue, "mean ± std" over seeds.
enum ReportTable {
    enum Column { case runs, tokenizer, config, n, metric(Metric) }
    static let columns: [(column: Column, title: String)] = [(.runs, "runs"), (.tokenizer, "tokenizer"), (.config, "config"), (.n, "n")]
        + [Metric.tokensPerImage, .log2Vocab, .codebookSize, .usage, .perplexity, .psnr, .psnrCI95, .ssim, .capacityBPB, .tokenRateBPB, .deficitBPB, .trainSeconds]
            .map { (.metric($0), $0.title) }
    /// The perceptual columns a table gains when any of its configurations has them ([evaluation] metrics).
    static let perceptual: [Metric] = [.rfid, .rfidImages, .fidInfinity, .kid, .lpipsAlex, .lpipsVgg]

    /// The columns for these configurations: the fixed ones, then the perceptual metrics some run recorded.
    static func columns(for configs: [ReportConfig]) -> [(column: Column, title: String)] {
        columns + perceptual.filter { m in configs.contains { $0.aggregate(m) != nil } }.map { (.metric($0), $0.title) }
    }
    static let leftAligned: Set<String> = ["runs", "tokenizer", "config", "A", "B", "verdict"]

    static func rows(_ configs: [ReportConfig]) -> [[String]] {
        let columns = columns(for: configs)
        return configs.map { c in
            columns.map { col in
                switch col.column {
                case .runs: return c.runs.map { "#\($0.id)" }.joined(separator: " ")
                case .tokenizer: return c.kind
                case .config: return c.config
                case .n: return String(c.n)
                case .metric(let m) where m == .codebookSize && c.aggregate(.codebookSize) == nil:
                    return c.aggregate(.log2Vocab).map { "2^" + Metric.log2Vocab.format($0.mean) } ?? "–"
                case .metric(let m): return c.cell(m)
                }
            }
        }
    }

    static func markdown(_ rows: [[String]], columns titles: [String]? = nil) -> String {
        let titles = titles ?? columns.map(\.title)
        var s = "| " + titles.joined(separator: " | ") + " |\n"
        s += "|" + titles.map { leftAligned.contains($0) ? ":---" : "---:" }.joined(separator: "|") + "|\n"
        for r in rows { s += "| " + r.map { escapeMarkup($0).replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n" }
        return s
    }

    static func html(_ rows: [[String]], columns titles: [String]? = nil) -> String {
        let titles = titles ?? columns.map(\.title)
        func cls(_ t: String) -> String { leftAligned.contains(t) ? "l" : "" }
        var s = "<table><thead><tr>" + titles.map { "<th class=\"\(cls($0))\">\(esc($0))</th>" }.joined() + "</tr></thead><tbody>\n"
        for r in rows {
            s += "<tr>" + zip(titles, r).map { "<td class=\"\(cls($0))\">\(esc($1))</td>" }.joined() + "</tr>\n"
        }
        return s + "</tbody></table>\n"
    }
}

/// The ranking table: each configuration against the next one down in mean PSNR, with the paired
/// interval that decides whether the gap is real.
enum RankingTable {
    static let titles = ["A", "B", "Δ PSNR dB (A − B) ± 95%", "over", "verdict"]

    static func rows(_ pairs: [(a: ReportConfig, b: ReportConfig, result: Result<PairedComparison, ComparisonError>)]) -> [[String]] {
        pairs.map { p in
            switch p.result {
            case .success(let c):
                let i = c.deciding
                let cell = Comparison.signed(.psnr, i.mean) + (i.halfWidth.map { " ± " + Metric.psnr.format($0) } ?? "")
                let over = c.pairs.count >= 2 ? "\(c.pairs.count) seeds (t)" : "\(i.n) images, 1 seed"
                return [p.a.label, p.b.label, cell, over, c.distinguishable ? "distinguishable" : "not distinguishable"]
            case .failure(let e):
                return [p.a.label, p.b.label, "–", "–", "not compared: \(e.description)"]
            }
        }
    }
}
