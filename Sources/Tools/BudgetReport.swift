import Foundation
import Datasets
import Metrics

/// `tokbench budget`: the data's lossless bits per byte (measured on an eval split, or assumed) and the
/// smallest log2 V that holds the images losslessly at each L.
public enum BudgetReport {
    /// The seed's arithmetic for an assumed rate.
    public static func assumed(side: Int, channels: Int, bitsPerByte: Double, lengths: [Int]) -> String {
        BudgetTable.render(bytesPerImage: side * side * channels, shape: "\(side)x\(side)x\(channels)", bitsPerByte: bitsPerByte, lengths: lengths)
    }

    /// Measures the eval split of a dataset with every coder that applies (as runs do), then the table at the best rate.
    public static func measured(_ spec: DatasetSpec, lengths: [Int]) throws -> String {
        let data = try Dataset.load(spec)
        let e = data.eval
        let rate = DataRateAccumulator(coders: DataRate.coders(forDataset: spec.kind, channels: e.channels))
        var b = 0
        while b < e.count {   // chunk by chunk: a folder's eval split need not fit in memory
            let r = b..<min(e.count, b + 256)
            try rate.consume(try e.read(r))
            b = r.upperBound
        }
        let rates = rate.measurements
        var out = "\(spec.kind.rawValue): \(e.count) eval images (\(data.splitDescription))\n"
        for r in rates { out += "  " + r.coder.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0) + String(format: "%.3f bits/byte\n", r.bitsPerByte) }
        let best = rates.map(\.bitsPerByte).min()!
        return out + BudgetTable.render(bytesPerImage: e.bytesPerImage, shape: "\(e.height)x\(e.width)x\(e.channels)", bitsPerByte: best, lengths: lengths)
    }
}
