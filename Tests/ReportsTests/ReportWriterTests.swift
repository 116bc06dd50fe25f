import XCTest
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Store
import MetricCatalogue
@testable import Reports

final class ReportWriterTests: XCTestCase {
    /// A small store: two raw-patch runs and one learned run with curves.
    func makeStore() throws -> (ResultStore, [Int64]) {
        let store = try ResultStore()
        let e = try store.createExperiment(name: "small", file: "small.toml", fileSHA256: "0")
        try store.recordDefinitions([.psnr, .usage])
        var ids: [Int64] = []
        let runs: [(String, String, [MetricValue])] = [
            ("raw-patch", "raw-patch(bits=8, patch=4)", [(.psnr, .infinity), (.capacityBPB, 8), (.tokensPerImage, 49), (.log2Vocab, 128), (.ssim, 1), (.dataBPB, 4.1)]),
            ("raw-patch", "raw-patch(bits=2, patch=4)", [(.psnr, 19.81), (.capacityBPB, 2), (.tokensPerImage, 49), (.log2Vocab, 32), (.ssim, 0.771), (.dataBPB, 4.1), (.tokenRateBPB, 0.93)]),
            ("vq-vae", "vq-vae(codebook_size=512)", [(.psnr, 24.5), (.capacityBPB, 0.5625), (.tokensPerImage, 49), (.log2Vocab, 9), (.codebookSize, 512),
                                                     (.usage, 0.93), (.perplexity, 410.2), (.ssim, 0.81), (.dataBPB, 4.1), (.tokenRateBPB, 0.51), (.deficitBPB, 3.5375), (.trainSeconds, 120)]),
        ]
        for (kind, label, results) in runs {
            let id = try store.beginRun(NewRun(experimentID: e, runKey: label, tokenizer: kind, label: label, dataset: "fashion-mnist",
                                               configJSON: "{}", seed: 0, codeVersion: "test"), params: [("dataset.channels", "1")])
            if kind == "vq-vae" {
                for step in stride(from: 10, through: 100, by: 10) {
                    try store.recordMetrics(runID: id, step: step, [(.loss, 1 / Double(step)), (.evalUsage, Double(step) / 100)])
                }
                try store.recordMetrics(runID: id, step: 50, [(.evalPSNR, 20)])
                try store.recordMetrics(runID: id, step: 100, [(.evalPSNR, 24)])
            }
            try store.finishRun(runID: id, results: results)
            ids.append(id)
        }
        return (store, ids)
    }

    func testReportParsesHasOneSVGPerFigureAndTheStoresNumbers() throws {
        let (store, _) = try makeStore()
        let dir = NSTemporaryDirectory() + "tokbench-report-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = try ReportData.load(store: store, experiments: ["small"], filter: nil)
        let files = try ReportWriter.write(data, title: "small", to: dir)
        let svgFiles = files.filter { $0.hasSuffix(".svg") }
        // rd, budget, and the curves with ≥ 2 points: loss, eval_psnr, eval_usage (the usage curve real runs record).
        XCTAssertEqual(Set(svgFiles.map { ($0 as NSString).lastPathComponent }), ["rd.svg", "budget.svg", "curve-loss.svg", "curve-eval_psnr.svg", "curve-eval_usage.svg"])

        // The HTML is well-formed (XML parser), self-contained, one <svg> per figure.
        let html = try String(contentsOfFile: dir + "/report.html", encoding: .utf8)
        final class Collector: NSObject, XMLParserDelegate {
            var svgs = 0, cells: [String] = [], inCell = false, text = "", scripts = 0, external = 0, tables = 0
            func parser(_ p: XMLParser, didStartElement e: String, namespaceURI: String?, qualifiedName: String?, attributes a: [String: String] = [:]) {
                if e == "svg" { svgs += 1 }
                if e == "table" { tables += 1 }
                if e == "script" { scripts += 1 }
                if let src = a["src"] ?? a["href"], src.hasPrefix("http") { external += 1 }
                if e == "td" { inCell = true; text = "" }
            }
            func parser(_ p: XMLParser, foundCharacters s: String) { if inCell { text += s } }
            func parser(_ p: XMLParser, didEndElement e: String, namespaceURI: String?, qualifiedName: String?) {
                if e == "td" { if tables == 1 { cells.append(text) }; inCell = false }
            }
        }
        let parser = XMLParser(data: Data(html.replacingOccurrences(of: "<!DOCTYPE html>", with: "").utf8))
        let c = Collector()
        parser.delegate = c
        XCTAssertTrue(parser.parse(), "report.html does not parse: \(String(describing: parser.parserError))")
        XCTAssertEqual(c.svgs, svgFiles.count)
        XCTAssertEqual(c.scripts, 0)
        XCTAssertEqual(c.external, 0)

        // Table rows equal the store's numbers (formatted): 16 columns per configuration (one run each here).
        XCTAssertEqual(c.cells.count, 3 * 16)
        let vq = Array(c.cells[32..<48])
        XCTAssertEqual(vq, ["#3", "vq-vae", "codebook_size=512", "1", "49", "9", "512", "0.930", "410.20", "24.50", "–", "0.810", "0.562", "0.510", "3.538", "120"])
        XCTAssertEqual(c.cells[9], "∞")                 // lossless PSNR
        XCTAssertEqual(c.cells[16 + 13], "0.930")       // token rate of run 2
        let md = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
        XCTAssertTrue(md.contains("| #3 | vq-vae | codebook_size=512 | 1 | 49 | 9 | 512 | 0.930 | 410.20 | 24.50 | – | 0.810 | 0.562 | 0.510 | 3.538 | 120 |"), md)
        XCTAssertTrue(md.contains("**usage**: " + escapeMarkup(Metric.usage.definition)))
    }

    func testRateDistortionChartMarksBudgetAndInfinity() throws {
        let (store, _) = try makeStore()
        let data = try ReportData.load(store: store, experiments: [], filter: "tokenizer = 'raw-patch'")
        XCTAssertEqual(data.runs.count, 2)
        let svg = Figures.rateDistortion(data.configs).svg()
        XCTAssertTrue(svg.contains("fashion-mnist lossless: 4.10 bits/byte"))
        XCTAssertTrue(svg.contains(">∞</text>"))
        XCTAssertTrue(svg.contains("bits per raw byte (log scale)"))
        XCTAssertTrue(svg.contains("PSNR (dB, per-image mean)"))
    }

    /// The usage figure: one point per configuration with V ≤ 2^24 (the raw patches, 2^32 and 2^128, stay
    /// out), usage and perplexity / V as stored; no figure with fewer than two such configurations.
    func testUsageAgainstVocabularyPlotsTheStoredUsage() throws {
        let (store, _) = try makeStore()
        XCTAssertNil(Figures.usageAgainstVocabulary(try ReportData.load(store: store, experiments: [], filter: nil).configs))
        let e = try store.createExperiment(name: "more", file: "more.toml", fileSHA256: "1")
        let id = try store.beginRun(NewRun(experimentID: e, runKey: "fsq", tokenizer: "fsq", label: "fsq(codebook_size=1024)", dataset: "fashion-mnist",
                                           configJSON: "{}", seed: 0, codeVersion: "test"), params: [("dataset.channels", "1")])
        try store.finishRun(runID: id, results: [(.psnr, 23.4), (.log2Vocab, 10), (.codebookSize, 1024), (.usage, 0.5), (.perplexity, 256)])
        let chart = try XCTUnwrap(Figures.usageAgainstVocabulary(try ReportData.load(store: store, experiments: [], filter: nil).configs))
        let points = chart.series.map { s in (s.name, s.points.map { [$0.x, $0.y] }) }
        XCTAssertEqual(points.map(\.0), ["vq-vae: usage", "vq-vae: perplexity / V", "fsq: usage", "fsq: perplexity / V"])
        XCTAssertEqual(points[0].1, [[9, 0.93]])
        XCTAssertEqual(points[1].1[0][1], 410.2 / 512, accuracy: 1e-12)
        XCTAssertEqual(points[2].1, [[10, 0.5]])
        XCTAssertEqual(points[3].1, [[10, 0.25]])
    }

    func testCompressAIExport() throws {
        let (store, _) = try makeStore()
        let dir = NSTemporaryDirectory() + "tokbench-export-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = try CompressAIExport.write(try ReportData.load(store: store, experiments: [], filter: nil), to: dir)
        let rate = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/tokbench-vq-vae-rate.json"))) as! [String: Any]
        let results = rate["results"] as! [String: [Double]]
        XCTAssertEqual(results["bpp"], [0.51])          // 1 channel: bpp = bits per byte
        XCTAssertEqual(results["psnr-rgb"], [24.5])
        XCTAssertEqual(rate["name"] as? String, "tokbench-vq-vae-rate")
        XCTAssertTrue(files.contains { $0.hasSuffix("tokbench-raw-patch-capacity.json") })
        let cap = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/tokbench-raw-patch-capacity.json"))) as! [String: Any]
        XCTAssertEqual((cap["results"] as! [String: [Double]])["bpp"], [2])   // the lossless point is left out
    }
}
