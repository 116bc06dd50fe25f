import Foundation
import Store
import MetricCatalogue

/// CompressAI's results JSON: {"name", "description", "results": {"psnr-rgb": [...], "bpp": [...]}},
/// one file per tokenizer family and rate kind, points sorted by bpp.
/// bpp = bits per pixel = C × bits per byte. "rate" files use the real token-stream rate (what
/// CompressAI's codecs report); "capacity" files use L·log2V. Lossless points (PSNR = ∞) have no
/// place on a PSNR axis and are left out (the description says how many). A configuration run with
/// several seeds is one point: the means over its seeds (the spread is in the report, agg_seeds).
public enum CompressAIExport {
    public static func write(_ data: ReportData, to dir: String) throws -> [String] {
        try ReportWriter.makeFolder(dir)
        var files: [String] = []
        let configs = data.configs
        for kind in Figures.orderedKinds(configs.map(\.kind)) {
            let group = configs.filter { $0.kind == kind }
            let runs = group.flatMap(\.runs)
            for (rate, suffix) in [(Metric.tokenRateBPB, "rate"), (.capacityBPB, "capacity")] {
                var pts: [(bpp: Double, psnr: Double)] = []
                var lossless = 0
                for c in group {
                    guard let bpb = c.aggregate(rate)?.mean, let p = c.aggregate(.psnr)?.mean, !p.isNaN else { continue }
                    let channels = Double(c.runs[0].params["dataset.channels"] ?? "3") ?? 3
                    if p.isInfinite { lossless += 1; continue }
                    pts.append((bpb * channels, p))
                }
                guard !pts.isEmpty else { continue }
                pts.sort { $0.bpp < $1.bpp }
                let name = "tokbench-\(ReportWriter.fileComponent(kind))-\(suffix)"
                let obj: [String: Any] = [
                    "name": name,
                    "description": "tokbench \(kind) tokenizers, bpp from \(rate.key) × channels; PSNR = per-image mean on 8-bit; \(lossless) lossless point(s) omitted; compute: \(Set(runs.map(\.environment)).sorted().joined(separator: " | "))",
                    "results": ["psnr-rgb": pts.map(\.psnr), "bpp": pts.map(\.bpp)],
                ]
                let path = (dir as NSString).appendingPathComponent(name + ".json")
                try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: path), options: .atomic)
                files.append(path)
            }
        }
        return files
    }
}
