import Foundation
import Datasets
import Tokenizers
import Metrics
import MetricCatalogue
import Store

/// The evaluator's path to the store, apart from any training (ARCHITECTURE.md, "Data flow"): given a
/// tokenizer (trained here, loaded from a checkpoint, or not learned) and a dataset, it measures
/// everything the catalogue defines for a final result (fidelity, tokens, rate, usage, and the data's
/// lossless budget, cached per eval split), saves reconstruction strips, and records the run as
/// finished in one transaction.
public struct EvaluationRecorder {
    let store: ResultStore
    let artifactDir: String?
    let say: (String) -> Void

    public init(store: ResultStore, artifactDir: String?, say: @escaping (String) -> Void) {
        self.store = store; self.artifactDir = artifactDir; self.say = say
    }

    /// Evaluates on `data.eval`, records the results (with `extra` ones such as training time) and
    /// artifacts, and marks the run finished.
    @discardableResult
    public func record(_ tokenizer: Tokenizer, on data: Dataset, runID: Int64, extra: [MetricValue] = [],
                       artifacts: [(kind: String, path: String)] = []) throws -> EvaluationReport {
        try record(Evaluator.outputs(tokenizer, on: data.eval), of: data, runID: runID, extra: extra, artifacts: artifacts)
    }

    /// The same for outputs produced elsewhere (an external program, files on disk): `outputs` are
    /// the tokens and reconstructions of `data.eval`, in its order.
    @discardableResult
    public func record(_ outputs: TokenizerOutputs, of data: Dataset, runID: Int64, extra: [MetricValue] = [],
                       artifacts: [(kind: String, path: String)] = []) throws -> EvaluationReport {
        let report = Evaluator.measure(data.eval, outputs)
        var results = report.values + extra
        results += try budget(data, tokensPerImage: report.value(.tokensPerImage).map { Int($0) }, capacity: report.value(.capacityBPB))
        let strips = try saveStrips(runID, data.eval, report.reconstruction)
        // The eval images' fingerprint: paired comparisons (`tokbench compare`) require equal ones.
        try store.recordParams(runID: runID, [(evalFingerprintParam, sha256Hex(data.eval.pixels))])
        try store.finishRun(runID: runID, results: results, perImage: report.perImage, artifacts: strips + artifacts)
        return report
    }

    /// The data's lossless rate on the eval split (computed once per split and cached in the
    /// store) and where this run stands against it.
    func budget(_ data: Dataset, tokensPerImage L: Int?, capacity: Double?) throws -> [MetricValue] {
        let s = data.spec
        let key = "\(s.kind.rawValue)|\(s.path)|\(s.resolution)|\(s.channels)|eval=\(s.evalImages)|photos=\(s.evalPhotos)|seed=\(s.seed)|\(DataRate.version)"
        var rates = try store.dataRates(key: key)
        let coders = DataRate.coders(forDataset: s.kind, channels: s.channels)
        let missing = coders.filter { rates[$0.rawValue] == nil }
        if !missing.isEmpty {
            say("  measuring the eval split's lossless rate (\(missing.map(\.rawValue).joined(separator: ", "))) once for this split")
            for m in try DataRate.measure(data.eval, coders: missing) {
                try store.saveDataRate(key: key, coder: m.coder.rawValue, bits: m.bits, bytes: m.bytes, images: data.eval.count, seconds: m.seconds,
                                       codeVersion: CodeVersion.current)
                rates[m.coder.rawValue] = (m.bits, m.bytes)
            }
        }
        var out: [MetricValue] = coders.map { c in (Metric.dataBPB(coder: c.rawValue), Double(rates[c.rawValue]!.bits) / Double(rates[c.rawValue]!.bytes)) }
        let best = out.map(\.value).min()!
        out.append((.dataBPB, best))
        if let capacity { out.append((.deficitBPB, best - capacity)) }
        if let L { out.append((.minLog2VLossless, InformationBudget.minLog2VForLossless(bytesPerImage: data.eval.bytesPerImage, bitsPerByte: best, tokens: L))) }
        return out
    }

    /// The first eval images and their reconstructions as two PNG strips (for report grids).
    func saveStrips(_ runID: Int64, _ eval: ImageBatch, _ recon: ImageBatch) throws -> [(kind: String, path: String)] {
        guard let dir = artifactDir else { return [] }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let n = min(8, eval.count)
        var out: [(kind: String, path: String)] = []
        for (kind, batch) in [("originals", eval), ("recon", recon)] {
            let path = (dir as NSString).appendingPathComponent("run-\(runID)-\(kind).png")
            try Data(encodePNG(horizontalStrip(batch, count: n))).write(to: URL(fileURLWithPath: path), options: .atomic)
            out.append((kind, path))
        }
        return out
    }


}

/// The first `count` images of a batch side by side: [count, C, H, W] → [1, C, H, count·W].
func horizontalStrip(_ b: ImageBatch, count: Int) -> ImageBatch {
    var out = ImageBatch(count: 1, channels: b.channels, height: b.height, width: count * b.width)
    for i in 0..<count { for c in 0..<b.channels { for y in 0..<b.height { for x in 0..<b.width {
        out.pixels[(c * b.height + y) * out.width + i * b.width + x] = b.pixels[((i * b.channels + c) * b.height + y) * b.width + x]
    } } } }
    return out
}
