import XCTest
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Store
import MetricCatalogue
@testable import Reports

/// Seeds in reports (mean ± std, error bars, the ranking table) and `tokbench compare`, on a store
/// whose numbers are chosen so every aggregate can be computed by hand.
final class SeedsTests: XCTestCase {
    /// Two configurations at seeds 0, 1, 2 on the same 4 eval images, plus one single-seed run on other images.
    /// A's per-image PSNR at seed s: [30, 31, 32, 33] + s; B's: [29, 31, 31, 32] + s·0.5.
    func makeStore() throws -> (ResultStore, a: [Int64], b: [Int64], other: Int64) {
        let store = try ResultStore()
        let e = try store.createExperiment(name: "seeded", file: "seeded.toml", fileSHA256: "0")
        try store.recordDefinitions(Metric.all)
        var a: [Int64] = [], b: [Int64] = []
        for seed in 0..<3 {
            for (kind, label, base, slope, rate) in [("vq-vae", "vq-vae(codebook_size=512)", [30.0, 31, 32, 33], 1.0, 0.5),
                                                     ("fsq", "fsq(codebook_size=1024)", [29.0, 31, 31, 32], 0.5, 0.6)] {
                let id = try store.beginRun(NewRun(experimentID: e, runKey: "\(label) seed=\(seed)", tokenizer: kind, label: label, dataset: "fashion-mnist",
                                                   configJSON: "{}", seed: UInt64(seed), codeVersion: "test"),
                                            params: [("dataset.channels", "1"), ("dataset.eval_sha256", "feed")])
                let psnr = base.map { $0 + slope * Double(seed) }
                try store.finishRun(runID: id, results: [(.psnr, Statistics.mean(psnr)), (.capacityBPB, 0.6), (.tokenRateBPB, rate + 0.01 * Double(seed)),
                                                         (.tokensPerImage, 49), (.dataBPB, 3.2), (.ssim, 0.8)],
                                    perImage: [(.psnr, psnr), (.ssim, [0.8, 0.8, 0.8, 0.8])])
                if kind == "vq-vae" { a.append(id) } else { b.append(id) }
            }
        }
        let other = try store.beginRun(NewRun(experimentID: e, runKey: "raw seed=0", tokenizer: "raw-patch", label: "raw-patch(bits=2)", dataset: "fashion-mnist",
                                              configJSON: "{}", seed: 0, codeVersion: "test"), params: [("dataset.channels", "1"), ("dataset.eval_sha256", "beef")])
        try store.finishRun(runID: other, results: [(.psnr, 19)], perImage: [(.psnr, [19, 19, 19, 19, 19])])
        return (store, a, b, other)
    }

    func testCompareTwoRunsMatchesTheHandComputedInterval() throws {
        let (store, a, b, _) = try makeStore()
        // Seed 0: a − b = 1, 0, 1, 1 → mean 0.75, s = 0.5, half-width 1.959964 · 0.5 / 2 = 0.489991 → [0.26, 1.24].
        let c = try Comparison.compare(store: store, String(a[0]), String(b[0]), experiment: nil, metric: .psnr)
        XCTAssertEqual(c.pairs.count, 1)
        XCTAssertEqual(c.pairs[0].images.mean, 0.75, accuracy: 1e-12)
        XCTAssertEqual(c.pairs[0].images.halfWidth!, 0.489991, accuracy: 1e-6)
        XCTAssertTrue(c.distinguishable)
        let text = Comparison.text(c)
        XCTAssertTrue(text.contains("seed 0: run \(a[0]) − run \(b[0]): +0.75, 95% interval [+0.26, +1.24] dB over 4 images"), text)
        XCTAssertTrue(text.contains("verdict: A − B is distinguishable from zero (over images, one seed)"), text)
    }

    func testCompareConfigurationsAcrossSeedsByHand() throws {
        let (store, _, _, _) = try makeStore()
        // Per seed s the mean difference is 0.75 + 0.5·s: 0.75, 1.25, 1.75 → mean 1.25, s = 0.5,
        // t(2) = 4.302653 → half-width 4.302653 · 0.5 / √3 = 1.242069 → [0.01, 2.49]: distinguishable.
        let c = try Comparison.compare(store: store, "vq-vae(codebook_size=512)", "fsq(codebook_size=1024)", experiment: "seeded", metric: .psnr)
        XCTAssertEqual(c.pairs.map(\.seed), [0, 1, 2])
        XCTAssertEqual(c.acrossSeeds.mean, 1.25, accuracy: 1e-12)
        XCTAssertEqual(c.acrossSeeds.std!, 0.5, accuracy: 1e-12)
        XCTAssertEqual(c.acrossSeeds.halfWidth!, 1.242069, accuracy: 1e-6)
        XCTAssertTrue(c.distinguishable)
        XCTAssertTrue(Comparison.text(c).contains("across 3 seeds: mean A − B +1.25, 95% interval [+0.01, +2.49] dB"), Comparison.text(c))
        // SSIM is identical on both sides: difference 0, no spread, not distinguishable.
        let s = try Comparison.compare(store: store, "vq-vae(codebook_size=512)", "fsq(codebook_size=1024)", experiment: nil, metric: .ssim)
        XCTAssertFalse(s.distinguishable)
        XCTAssertTrue(Comparison.text(s).contains("verdict: not distinguishable from zero"))
    }

    func testCompareRefusesDifferentEvalImagesAndUnknownSides() throws {
        let (store, a, _, other) = try makeStore()
        XCTAssertThrowsError(try Comparison.compare(store: store, String(a[0]), String(other), experiment: nil, metric: .psnr)) { e in
            XCTAssertTrue("\(e)".contains("were evaluated on different eval images"), "\(e)")
            XCTAssertFalse("\(e)".contains("\n"))
        }
        XCTAssertThrowsError(try Comparison.compare(store: store, "9999", String(a[0]), experiment: nil, metric: .psnr)) { e in
            XCTAssertTrue("\(e)".contains("run 9999: no finished run"), "\(e)")
        }
        XCTAssertThrowsError(try Comparison.compare(store: store, "vq-vae(nope)", String(a[0]), experiment: nil, metric: .psnr)) { e in
            XCTAssertTrue("\(e)".contains("no finished run has this id or label"), "\(e)")
        }
    }

    /// The check: a report of an experiment with seeds = [0, 1, 2] shows mean ± std (n = 3)
    /// in its table and error bars in its figures, read back by parsing the HTML.
    func testSeededReportHTMLShowsMeanStdAndErrorBars() throws {
        let (store, _, _, _) = try makeStore()
        let dir = NSTemporaryDirectory() + "tokbench-seeds-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ReportWriter.write(try ReportData.load(store: store, experiments: ["seeded"], filter: nil), title: "seeded", to: dir)
        let html = try String(contentsOfFile: dir + "/report.html", encoding: .utf8)

        final class Collector: NSObject, XMLParserDelegate {
            var tables: [[[String]]] = [], headers: [[String]] = [], row: [String]? = nil, text = "", inCell = false
            var svg = 0, errorbars: [Int: Int] = [:], seedDots: [Int: Int] = [:]
            func parser(_ p: XMLParser, didStartElement e: String, namespaceURI: String?, qualifiedName: String?, attributes a: [String: String] = [:]) {
                switch e {
                case "table": tables.append([]); headers.append([])
                case "tr": row = []
                case "td", "th": inCell = true; text = ""
                case "svg": svg += 1
                case "path" where a["class"] == "errorbar": errorbars[svg, default: 0] += 1
                case "circle" where a["class"] == "seed": seedDots[svg, default: 0] += 1
                default: break
                }
            }
            func parser(_ p: XMLParser, foundCharacters s: String) { if inCell { text += s } }
            func parser(_ p: XMLParser, didEndElement e: String, namespaceURI: String?, qualifiedName: String?) {
                switch e {
                case "th": headers[headers.count - 1].append(text); inCell = false
                case "td": row?.append(text); inCell = false
                case "tr": if let r = row, !r.isEmpty { tables[tables.count - 1].append(r) }; row = nil
                default: break
                }
            }
        }
        let parser = XMLParser(data: Data(html.replacingOccurrences(of: "<!DOCTYPE html>", with: "").utf8))
        let c = Collector()
        parser.delegate = c
        XCTAssertTrue(parser.parse(), "report.html does not parse: \(String(describing: parser.parserError))")

        // Results table: one row per configuration, n = 3 for the seeded ones, "mean ± std" PSNR.
        let h = c.headers[0], rows = c.tables[0]
        let col = { (t: String) in h.firstIndex(of: t)! }
        XCTAssertEqual(rows.count, 3)
        let vq = rows.first { $0[col("tokenizer")] == "vq-vae" }!, fsq = rows.first { $0[col("tokenizer")] == "fsq" }!
        XCTAssertEqual(vq[col("n")], "3")
        XCTAssertEqual(fsq[col("n")], "3")
        // vq-vae mean PSNR per seed: 31.5, 32.5, 33.5 → 32.50 ± 1.00; fsq: 30.75, 31.25, 31.75 → 31.25 ± 0.50.
        XCTAssertEqual(vq[col("PSNR dB")], "32.50 ± 1.00")
        XCTAssertEqual(fsq[col("PSNR dB")], "31.25 ± 0.50")
        XCTAssertEqual(vq[col("runs")].split(separator: " ").count, 3)
        XCTAssertEqual(vq[col("L")], "49")                       // identical across seeds: shown bare
        XCTAssertEqual(vq[col("token rate bpb")], "0.510 ± 0.010")
        let raw = rows.first { $0[col("tokenizer")] == "raw-patch" }!
        XCTAssertEqual(raw[col("n")], "1")
        XCTAssertEqual(raw[col("PSNR dB")], "19.00")

        // Ranking table: vq-vae > fsq across 3 seeds (+1.25 ± 1.24, distinguishable); fsq vs raw-patch
        // cannot be paired (different eval images) and says so.
        let ranking = c.tables[1]
        XCTAssertEqual(ranking[0][0], "vq-vae(codebook_size=512)")
        XCTAssertEqual(ranking[0][2], "+1.25 ± 1.24")
        XCTAssertEqual(ranking[0][3], "3 seeds (t)")
        XCTAssertEqual(ranking[0][4], "distinguishable")
        XCTAssertTrue(ranking[1][4].hasPrefix("not compared:"), ranking[1][4])

        // Figures: the rate–distortion plot (first SVG) draws error bars for both seeded configurations
        // and both rate kinds (4) and the 12 single seeds as dots; the budget plot (second) an error bar per seeded token rate.
        XCTAssertEqual(c.errorbars[1], 4)
        XCTAssertEqual(c.seedDots[1], 2 * 2 * 3)
        XCTAssertEqual(c.errorbars[2], 2)
        XCTAssertTrue(html.contains("mean ± std (n)") || html.contains("agg_seeds"))
    }

    func testChosenPairsInTheReport() throws {
        let (store, _, _, _) = try makeStore()
        let dir = NSTemporaryDirectory() + "tokbench-pairs-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = try ReportData.load(store: store, experiments: ["seeded"], filter: nil)
        // B − A across seeds: −1.25 ± 1.24 (the hand-computed case above, reversed).
        try ReportWriter.write(data, title: "t", to: dir, pairs: [("fsq(codebook_size=1024)", "vq-vae(codebook_size=512)")])
        let md = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
        XCTAssertTrue(md.contains("### Chosen comparisons"), md)
        XCTAssertTrue(md.contains("| fsq(codebook_size=1024) | vq-vae(codebook_size=512) | -1.25 ± 1.24 | 3 seeds (t) | distinguishable |"), md)
        XCTAssertThrowsError(try ReportWriter.write(data, title: "t", to: dir, pairs: [("nope", "vq-vae(codebook_size=512)")])) { e in
            XCTAssertTrue("\(e)".contains("no configuration labelled nope"), "\(e)")
        }
    }
}
