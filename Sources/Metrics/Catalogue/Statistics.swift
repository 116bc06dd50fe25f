// How sure a number is: the intervals and aggregates tokbench reports, defined once beside the
// catalogue whose numbers they qualify (ARCHITECTURE.md, "Uncertainty"). Pure functions on plain
// arrays: the evaluator uses them for a run's interval over its eval images, the reports and
// `tokbench compare` for seeds and paired differences. Their definitions (the `Metric.statistics`
// entries below) are recorded with every run and printed in every report.
import Foundation

/// A mean with a two-sided 95% confidence interval.
public struct Interval: Equatable, Sendable {
    public var mean: Double
    /// Half-width of the interval (nil when n < 2: no spread to estimate).
    public var halfWidth: Double?
    /// Sample standard deviation (n − 1 in the denominator; nil when n < 2).
    public var std: Double?
    public var n: Int
    public var low: Double? { halfWidth.map { mean - $0 } }
    public var high: Double? { halfWidth.map { mean + $0 } }
    /// True when the interval lies entirely above or below zero.
    public var excludesZero: Bool { guard let h = halfWidth else { return false }; return mean - h > 0 || mean + h < 0 }
}

public enum Statistics {
    /// Two-sided 95% quantile of the standard normal.
    public static let z95 = 1.959963984540054

    public static func mean(_ x: [Double]) -> Double {
        precondition(!x.isEmpty)
        return x.reduce(0, +) / Double(x.count)
    }

    /// Sample standard deviation, n − 1 in the denominator (two-pass); nil for fewer than 2 values.
    public static func std(_ x: [Double]) -> Double? {
        guard x.count >= 2 else { return nil }
        if x.allSatisfy({ $0 == x[0] }) { return 0 }   // exactly: the mean's rounding must not invent a spread
        let m = mean(x)
        var s = 0.0
        for v in x { s += (v - m) * (v - m) }
        return (s / Double(x.count - 1)).squareRoot()
    }

    /// Two-sided 95% quantile of Student's t with `df` degrees of freedom (table to 30, then the
    /// normal quantile plus two Cornish–Fisher terms, within 2e-4 of the exact value).
    public static func t95(df: Int) -> Double {
        precondition(df >= 1)
        let table: [Double] = [12.706204736, 4.302652730, 3.182446305, 2.776445105, 2.570581836, 2.446911851, 2.364624252,
                               2.306004135, 2.262157163, 2.228138852, 2.200985160, 2.178812830, 2.160368656, 2.144786688,
                               2.131449546, 2.119905299, 2.109815578, 2.100922040, 2.093024054, 2.085963447, 2.079613845,
                               2.073873068, 2.068657610, 2.063898562, 2.059538553, 2.055529439, 2.051830516, 2.048407142,
                               2.045229642, 2.042272456]
        if df <= table.count { return table[df - 1] }
        let z = z95
        let d = Double(df), z3 = z * z * z, z5 = z3 * z * z
        return z + (z3 + z) / (4 * d) + (5 * z5 + 16 * z3 + 3 * z) / (96 * d * d)
    }

    /// Mean over a large sample (eval images) with the normal-approximation 95% interval:
    /// mean ± 1.96 · s / √n.
    public static func normalInterval(_ x: [Double]) -> Interval {
        let s = std(x)
        return Interval(mean: mean(x), halfWidth: s.map { z95 * $0 / Double(x.count).squareRoot() }, std: s, n: x.count)
    }

    /// Mean over a small sample (seeds) with Student's t 95% interval: mean ± t(n−1) · s / √n.
    public static func tInterval(_ x: [Double]) -> Interval {
        let s = std(x)
        return Interval(mean: mean(x), halfWidth: s.map { t95(df: x.count - 1) * $0 / Double(x.count).squareRoot() }, std: s, n: x.count)
    }

    /// Paired difference a − b, element by element (same images in the same order), with the
    /// normal-approximation interval over the pairs.
    public static func pairedDifference(_ a: [Double], _ b: [Double]) -> Interval {
        precondition(a.count == b.count && !a.isEmpty)
        return normalInterval(zip(a, b).map { $0 - $1 })
    }
}

extension Metric {
    // MARK: uncertainty (results)
    public static let psnrCI95 = Metric("psnr_ci95", title: "PSNR ±95% (images)", unit: "dB", format: .decimals(2), summaryColumn: "psnr_ci95",
        "half-width of the 95% confidence interval of the run's mean PSNR over its eval images (normal approximation): 1.96 * sample std of the per-image PSNRs / sqrt(n images); the per-image values are stored (image_metric, key psnr)")
    public static let ssimCI95 = Metric("ssim_ci95", title: "SSIM ±95% (images)", format: .decimals(4),
        "half-width of the 95% confidence interval of the run's mean SSIM over its eval images (normal approximation): 1.96 * sample std of the per-image SSIMs / sqrt(n images); the per-image values are stored (image_metric, key ssim)")
    public static let lpipsAlexCI95 = Metric("lpips_alex_ci95", title: "LPIPS-alex ±95%", format: .decimals(4),
        "half-width of the 95% confidence interval of the run's mean LPIPS-alex over its eval images (normal approximation, as psnr_ci95); per-image values stored (image_metric, key lpips_alex)")
    public static let lpipsVggCI95 = Metric("lpips_vgg_ci95", title: "LPIPS-vgg ±95%", format: .decimals(4),
        "half-width of the 95% confidence interval of the run's mean LPIPS-vgg over its eval images (normal approximation); per-image values stored (image_metric, key lpips_vgg)")

    // MARK: uncertainty (aggregates: definitions only, computed by reports and `tokbench compare`)
    public static let seedAggregate = Metric("agg_seeds", title: "mean ± std (n)",
        "runs of one experiment that differ only in seed form one configuration (same label); a table cell is the mean over its n finished runs ± the sample standard deviation (n - 1 denominator); n = 1 shows the single value; figures draw the mean with an error bar of ± one std and every seed as a dot")
    public static let seedInterval = Metric("agg_seed_ci95", title: "seed 95% interval",
        "95% confidence interval of a configuration's mean over seeds: mean ± t(0.975, n-1) * std / sqrt(n) (Student's t; t = 4.303 for n = 3)")
    public static let pairedImages = Metric("paired_images", title: "paired difference (images)",
        "paired difference of two runs on the same eval images (same split and identical image bytes, checked by the eval split's SHA-256): per-image a - b, its mean and the normal-approximation 95% interval 1.96 * std / sqrt(n images); 'distinguishable' when the interval excludes 0")
    public static let pairedSeeds = Metric("paired_seeds", title: "paired difference (seeds)",
        "difference of two configurations across seeds: per seed s, mean(a, s) - mean(b, s) over the eval images (seeds present in both), then the mean of those differences ± the Student's t 95% interval over seeds; 'distinguishable' when it excludes 0 (needs n >= 2 seeds)")

    /// Metrics whose per-image values every run stores (`image_metric`).
    public static let perImage: [Metric] = [.psnr, .ssim, .lpipsAlex, .lpipsVgg]
    /// Definitions of the intervals and aggregates (recorded with the runs, printed in reports).
    public static let statistics: [Metric] = [.seedAggregate, .seedInterval, .pairedImages, .pairedSeeds]
}

/// How words use their range, pooled over all positions: the fraction of the `wordRange` values seen,
/// and the perplexity 2^H of their frequencies (H summed in ascending word order, so the same words
/// give the same bits). The training curves' batch_usage / batch_perplexity; `tokenStatistics` applies
/// it per word position to the eval tokens.
public func wordUsage(_ words: [UInt32], wordRange: Int) -> (usage: Double, perplexity: Double, entropyBits: Double, distinct: Int) {
    var counts: [UInt32: Int] = [:]
    for w in words { counts[w, default: 0] += 1 }
    return wordUsage(counts: counts, total: words.count, wordRange: wordRange)
}

/// The same from the counts of each word value (`total` = their sum).
public func wordUsage(counts: [UInt32: Int], total: Int, wordRange: Int) -> (usage: Double, perplexity: Double, entropyBits: Double, distinct: Int) {
    var h = 0.0
    for key in counts.keys.sorted() { let p = Double(counts[key]!) / Double(total); h -= p * log2(p) }
    return (Double(counts.count) / Double(wordRange), pow(2, h), h, counts.count)
}
