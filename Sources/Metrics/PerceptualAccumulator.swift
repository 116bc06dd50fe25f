import Foundation
import MetricCatalogue
import Perceptual

/// rFID (with KID and FID∞) and LPIPS on the streaming evaluator (ARCHITECTURE.md, "Perceptual metrics").
/// Per chunk: the Inception features of the reconstructions (and of the originals, unless the split's are
/// cached) are appended to feature spools on disk, and each LPIPS network's per-pair distances are kept (a
/// scalar per image). `finish` reads the spools back: the moments in order (Fréchet distance), subsets by
/// index (KID, FID∞). Memory holds one chunk and the D×D statistics, whatever N is.
public final class PerceptualAccumulator: MetricAccumulator {
    let suite: PerceptualSuite
    let directory: String
    let removeDirectory: Bool
    var originals: FeatureFile?
    var reconstructions: FeatureFile?
    /// The originals' features of this split from an earlier run (nil: computed here).
    let cachedOriginals: FeatureFile?
    var lpips: [[Double]]
    var images = 0
    public let times: StageTimes?

    /// directory: where the spools live (a resumable evaluation's folder); nil: a temporary one, removed at the end.
    public init(suite: PerceptualSuite, directory: String?, cachedOriginals: FeatureFile? = nil, times: StageTimes? = nil) throws {
        self.suite = suite; self.cachedOriginals = cachedOriginals; self.times = times
        if let d = directory { self.directory = d; removeDirectory = false } else {
            self.directory = NSTemporaryDirectory() + "tokbench-features-\(UUID().uuidString)"; removeDirectory = true
        }
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        lpips = suite.lpips.map { _ in [] }
    }

    /// Opens the spools at the first chunk (new) or at a restore (cut back to the saved count).
    func openSpools(keep: Int) throws {
        guard let net = suite.inception, reconstructions == nil else { return }
        reconstructions = try FeatureFile(path: directory + "/reconstructions.f32", dimension: net.width, keep: keep)
        if cachedOriginals == nil { originals = try FeatureFile(path: directory + "/originals.f32", dimension: net.width, keep: keep) }
    }

    deinit { if removeDirectory { try? FileManager.default.removeItem(atPath: directory) } }

    /// The spool of the originals' features once finished (the recorder caches it per eval split).
    public var originalsSpool: FeatureFile? { originals }

    func timed<T>(_ name: String, _ body: () throws -> T) rethrows -> T { try times.map { try $0.time(name, body) } ?? body() }

    public func consume(_ chunk: EvalChunk) throws {
        try openSpools(keep: images)
        if let net = suite.inception {
            try timed("Inception") {
                // A chunk reconstructed exactly (a lossless tokenizer) has its originals' features: the same
                // function of the same bytes, taken from this chunk's forward or from the split's cache, not run twice.
                let same = chunk.reconstructions.pixels == chunk.originals.pixels
                if let o = originals {
                    let f = net.features(of: chunk.originals)
                    try o.append(f)
                    try reconstructions!.append(same ? f : net.features(of: chunk.reconstructions))
                } else if same, let c = cachedOriginals, c.rows >= chunk.first + chunk.originals.count {
                    try reconstructions!.append(c.read(Array(chunk.first..<(chunk.first + chunk.originals.count))))
                } else {
                    try reconstructions!.append(net.features(of: chunk.reconstructions))
                }
            }
        }
        for (k, entry) in suite.lpips.enumerated() {
            lpips[k] += timed(entry.metric.rawValue) { entry.network.distances(chunk.originals, chunk.reconstructions) }
        }
        images += chunk.originals.count
    }

    public func finish() throws -> Accumulated {
        var out = Accumulated()
        try openSpools(keep: images)
        if let net = suite.inception, let recon = reconstructions {
            try recon.close(); try originals?.close()
            let orig = cachedOriginals ?? originals!
            guard orig.rows == recon.rows, recon.rows >= 2 else {
                throw WeightsError("rFID needs at least 2 images with features for both sets (have \(orig.rows) originals, \(recon.rows) reconstructions)")
            }
            let (mo, mr) = try timed("Fréchet distance") { (try orig.moments(), try recon.moments()) }
            let cov1 = mo.covariance, mean1 = mo.mean
            if suite.metrics.contains(.rfid) {
                let root1 = timed("Fréchet distance") { Frechet.squareRoot(cov1, n: net.width) }
                let fid = timed("Fréchet distance") { Frechet.distance(mean1: mean1, cov1: cov1, mean2: mr.mean, cov2: mr.covariance, root1: root1) }
                out.values += [(.rfid, fid), (.rfidImages, Double(recon.rows))]
            }
            if suite.metrics.contains(.kid) {
                let k = try timed("KID") { try KID.estimate(orig, recon) }
                out.values += [(.kid, k.mean), (.kidStd, k.std)]
                if !suite.metrics.contains(.rfid) { out.values.append((.rfidImages, Double(recon.rows))) }
            }
            // FID∞ whenever it is asked for, and beside every rFID of fewer than 50,000 images (the field's N).
            if suite.metrics.contains(.fidInf) || (suite.metrics.contains(.rfid) && recon.rows < 50_000) {
                let f = try timed("FID∞") { try FIDInfinity.estimate(reference: mean1, cov1: cov1, recon, sizes: FIDInfinity.sizes(for: recon.rows)) }
                out.values.append((.fidInfinity, f.value))
                if !suite.metrics.contains(.rfid) && !suite.metrics.contains(.kid) { out.values.append((.rfidImages, Double(recon.rows))) }
            }
        }
        for (k, entry) in suite.lpips.enumerated() {
            let (metric, ci): (Metric, Metric) = entry.metric == .lpipsAlex ? (.lpipsAlex, .lpipsAlexCI95) : (.lpipsVgg, .lpipsVggCI95)
            let v = lpips[k]
            out.values.append((metric, v.reduce(0, +) / Double(max(1, v.count))))
            if let h = Statistics.normalInterval(v).halfWidth { out.values.append((ci, h)) }
            out.perImage.append((metric, v))
        }
        return out
    }

    public func save(_ w: inout StateWriter) throws {
        w.int(images)
        for v in lpips { w.doubles(v) }
    }

    public func restore(_ r: inout StateReader) throws {
        images = try r.int()
        lpips = try lpips.map { _ in try r.doubles() }
        guard lpips.allSatisfy({ $0.count == images }) else { throw r.fail() }
        reconstructions = nil; originals = nil
        try openSpools(keep: images)
    }
}
