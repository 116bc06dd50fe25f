import XCTest
import Foundation
@testable import Perceptual
import Datasets
import Kernels
@testable import Metrics

/// The perceptual networks against the reference packages (fixtures from bench/make_perceptual_fixtures.py:
/// reduced-width networks of the real topologies, random weights, PyTorch's outputs), each fast layer against
/// its naive loop, and the distances against hand-computed cases.
final class PerceptualTests: XCTestCase {
    func fixture(_ name: String) -> String { Bundle.module.path(forResource: "Fixtures/" + name, ofType: nil)! }

    /// uint8 [N, 3, H, W] from a fixture .npy.
    func images(_ name: String) throws -> ImageBatch {
        let a = try readNPYFile(path: fixture(name))
        var b = ImageBatch(count: a.shape[0], channels: a.shape[1], height: a.shape[2], width: a.shape[3])
        b.pixels = a.integers!.map { UInt8($0) }
        return b
    }

    func reference(_ key: String) throws -> [Double] { try readNPZNumeric(path: fixture("reference.npz"), key: key).doubles }

    func testInceptionFeaturesEqualPyTorchs() throws {
        let net = try InceptionFeatures(file: try WeightFile.load(path: fixture("inception-w16.pt")))
        XCTAssertEqual(net.width, 128)
        let f = net.features(of: try images("images.npy")).map(Double.init)
        let ref = try reference("inception")
        XCTAssertEqual(f.count, ref.count)
        let scale = ref.map(abs).max()!
        for (a, b) in zip(f, ref) { XCTAssertEqual(a, b, accuracy: 1e-4 * scale) }
        // Relative L2 error, the usual figure for a whole network.
        let err = zip(f, ref).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot() / ref.reduce(0) { $0 + $1 * $1 }.squareRoot()
        XCTAssertLessThan(err, 1e-4)
    }

    func testInceptionFastPathEqualsNaiveLoops() throws {
        let net = try InceptionFeatures(file: try WeightFile.load(path: fixture("inception-w16.pt")))
        let x = FIDInput.prepare(try images("images.npy"), image: 1)
        let fast = net.features(x), naive = net.features(x, naive: true)
        for (a, b) in zip(fast, naive) { XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(b))) }
    }

    func testLPIPSEqualsTheLPIPSPackage() throws {
        let a = try images("images.npy"), b = try images("recon.npy")
        for (backbone, file, key) in [(LPIPSNetwork.Backbone.alex, "lpips-alex-w8.ckpt", "lpips_alex"), (.vgg, "lpips-vgg-w16.ckpt", "lpips_vgg")] {
            let net = try LPIPSNetwork(backbone, file: try WeightFile.load(path: fixture(file)))
            let d = net.distances(a, b), ref = try reference(key)
            for (x, y) in zip(d, ref) { XCTAssertEqual(x, y, accuracy: 1e-5, "\(backbone)") }
            // Naive loops give the same distance; identical images give exactly 0.
            let p = LPIPSNetwork.prepare(a, image: 0), q = LPIPSNetwork.prepare(b, image: 0)
            XCTAssertEqual(net.distance(p, q, naive: true).total, d[0], accuracy: 1e-6)
            XCTAssertEqual(net.distances(a, a), [Double](repeating: 0, count: a.count))
        }
    }

    func testRectangularConvolutionsAndPoolsEqualNaiveLoops() {
        var rng = SplitMix64(seed: 7)
        func rand(_ n: Int) -> [Float] { (0..<n).map { _ in Float(Double(rng.next() % 2001) / 1000 - 1) } }
        let x = Activation(channels: 3, height: 9, width: 11, data: rand(3 * 9 * 11))
        for (kh, kw, s, ph, pw) in [(1, 7, 1, 0, 3), (7, 1, 1, 3, 0), (1, 3, 1, 0, 1), (3, 1, 1, 1, 0), (3, 3, 2, 0, 0), (5, 5, 1, 2, 2), (11, 11, 4, 2, 2), (1, 1, 1, 0, 0)] {
            let c = ForwardConv(inChannels: 3, outChannels: 4, kernelH: kh, kernelW: kw, stride: s, padH: ph, padW: pw, relu: kh != 1,
                                weights: rand(4 * 3 * kh * kw), bias: rand(4))
            let f = c.forward(x), n = c.forwardNaive(x)
            XCTAssertEqual([f.channels, f.height, f.width], [n.channels, n.height, n.width])
            for (a, b) in zip(f.data, n.data) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(kh)x\(kw)/\(s)") }
        }
        for p in [Pool(.max, kernel: 3, stride: 2), Pool(.max, kernel: 3, stride: 1, padding: 1), Pool(.max, kernel: 2, stride: 2),
                  Pool(.average(countIncludePad: false), kernel: 3, stride: 1, padding: 1), Pool(.average(countIncludePad: true), kernel: 3, stride: 1, padding: 1)] {
            let f = p.forward(x), n = p.forwardNaive(x)
            for (a, b) in zip(f.data, n.data) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        }
        // Average without padding counts: a corner of an all-ones plane stays 1 (TF "SAME"); with them it is 4/9.
        let ones = Activation(channels: 1, height: 4, width: 4, data: [Float](repeating: 1, count: 16))
        XCTAssertEqual(Pool(.average(countIncludePad: false), kernel: 3, stride: 1, padding: 1).forward(ones).data[0], 1)
        XCTAssertEqual(Pool(.average(countIncludePad: true), kernel: 3, stride: 1, padding: 1).forward(ones).data[0], 4 / 9, accuracy: 1e-7)
        // Concatenation along channels.
        let two = Activation(channels: 2, height: 4, width: 4, data: (0..<32).map(Float.init))
        let y = Activation.concatenate([ones, two])
        XCTAssertEqual(y.channels, 3); XCTAssertEqual(Array(y.data[16...]), two.data)
    }

    func testBatchNormFoldsIntoTheConvolution() {
        let w: [Float] = [0.5, -1, 2, 0.25], x = Activation(channels: 1, height: 2, width: 2, data: [1, 2, 3, 4])
        let c = ForwardConv.foldingBatchNorm(inChannels: 1, outChannels: 1, kernelH: 2, kernelW: 2, stride: 1, padH: 0, padW: 0, relu: false,
                                             weights: w, mean: [0.5], variance: [3], beta: [0.1], eps: 1e-3)
        // conv = 0.5·1 − 1·2 + 2·3 + 0.25·4 = 5.5; BN: (5.5 − 0.5)/sqrt(3.001) + 0.1
        XCTAssertEqual(Double(c.forward(x).data[0]), 5.0 / 3.001.squareRoot() + 0.1, accuracy: 1e-5)
    }

    func testTFBilinearResizeSamplesAtJTimesWOverWPrime() {
        // 2×2 → 4×4: out j samples j·2/4 = 0, 0.5, 1, 1.5 (clamped to 1): the TF-1 rule, not half-pixel centers.
        var b = ImageBatch(count: 1, channels: 1, height: 2, width: 2)
        b.pixels = [0, 100, 100, 200]
        let x = FIDInput.prepare(b, image: 0, side: 4)
        let row0 = x.data[0..<4].map { (Double($0) + 1) * 255 / 1.9921875 }
        for (v, e) in zip(row0, [0.0, 50, 100, 100]) { XCTAssertEqual(v, e, accuracy: 1e-3) }
        // Gray is replicated to 3 channels.
        XCTAssertEqual(Array(x.data[0..<16]), Array(x.data[32..<48]))
    }

    func testFrechetDistanceOfDiagonalGaussians() {
        // μ1 = (0, 0), Σ1 = diag(1, 4); μ2 = (1, 2), Σ2 = diag(4, 9): |Δμ|² = 5, tr = 18, tr(Σ1Σ2)^½ = 2 + 6 → 5 + 18 − 16 = 7.
        let d = Frechet.distance(mean1: [0, 0], cov1: [1, 0, 0, 4], mean2: [1, 2], cov2: [4, 0, 0, 9])
        XCTAssertEqual(d, 7, accuracy: 1e-12)
        // A rotated pair: Σ = R diag(1, 4) Rᵀ against itself is 0.
        let c = 0.6, s = 0.8
        let sigma = [c * c * 1 + s * s * 4, c * s * (1 - 4), c * s * (1 - 4), s * s * 1 + c * c * 4]
        XCTAssertEqual(Frechet.distance(mean1: [1, 1], cov1: sigma, mean2: [1, 1], cov2: sigma), 0, accuracy: 1e-12)
    }

    func testMomentsAccumulateChunkByChunk() {
        var all = FeatureMoments(dimension: 2), parts = FeatureMoments(dimension: 2)
        let rows: [Float] = [1, 2, 3, 5, 4, 4, 0, 1]
        all.add(rows, rows: 4)
        parts.add(Array(rows[0..<2]), rows: 1); parts.add(Array(rows[2...]), rows: 3)
        XCTAssertEqual(all.mean, [2, 3]); XCTAssertEqual(parts.mean, [2, 3])
        // np.cov: x = 1,3,4,0 (var 10/3), y = 2,5,4,1 (var 10/3), cov = (−1·−1 + 1·2 + 2·1 + −2·−2)/3 = 3.
        for (a, e) in zip(parts.covariance, [10.0 / 3, 3, 3, 10.0 / 3]) { XCTAssertEqual(a, e, accuracy: 1e-12) }
    }

    func testKIDHandCase() throws {
        // d = 1, m = 2: x = (0, 1), y = (1, 2); k(a, b) = (ab + 1)³.
        // K_xx off-diagonal: k(0,1) = 1 (twice); K_yy: k(1,2) = 27 (twice); K_xy: k(0,1)=1, k(0,2)=1, k(1,1)=8, k(1,2)=27 → 37.
        // MMD² = (2 + 54)/(2·1) − 2·37/4 = 28 − 18.5 = 9.5.
        XCTAssertEqual(KID.mmd([0, 1], [1, 2], m: 2, d: 1), 9.5, accuracy: 1e-12)
        let k = try KID.estimate(FeatureArray([0, 1], dimension: 1), FeatureArray([1, 2], dimension: 1), subsets: 5)
        XCTAssertEqual(k.mean, 9.5, accuracy: 1e-12); XCTAssertEqual(k.std, 0, accuracy: 1e-12); XCTAssertEqual(k.subsetSize, 2)
    }

    func testFIDInfinityExtrapolatesALinearTrend() throws {
        // Features of b drawn so that subset FIDs vary; the fit's intercept and the points are consistent:
        // the intercept lies below every point when FID falls with N (the usual small-N bias).
        var rng = SplitMix64(seed: 3)
        let n = 400, d = 3
        let a = (0..<(n * d)).map { _ in Float(Double(rng.next() % 10000) / 10000) }
        let b = (0..<(n * d)).map { _ in Float(Double(rng.next() % 10000) / 10000 * 1.1 + 0.05) }
        var ma = FeatureMoments(dimension: d); ma.add(a, rows: n)
        let r = try FIDInfinity.estimate(reference: ma.mean, cov1: ma.covariance, FeatureArray(b, dimension: d), sizes: FIDInfinity.sizes(for: n))
        XCTAssertEqual(r.points.map(\.n), [80, 120, 160, 200, 240, 280, 320, 360, 400])
        XCTAssertTrue(r.value.isFinite)
        XCTAssertLessThan(r.value, r.points.map(\.fid).max()!)
    }

    func testFeatureSpoolReadsBackAndCutsToASavedCount() throws {
        let path = NSTemporaryDirectory() + "tokbench-spool-\(UUID().uuidString).f32"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let f = try FeatureFile(path: path, dimension: 2)
        try f.append([1, 2, 3, 4]); try f.append([5, 6])
        XCTAssertEqual(try f.read([2, 0]), [5, 6, 1, 2])
        try f.close()
        let g = try FeatureFile(path: path, dimension: 2, keep: 2)      // a resumed evaluation keeps 2 rows
        XCTAssertEqual(g.rows, 2)
        try g.append([7, 8])
        XCTAssertEqual(try g.read([0, 1, 2]), [1, 2, 3, 4, 7, 8])
    }

    func testSymmetricEigenEqualsJacobi() {
        var rng = SplitMix64(seed: 11)
        let n = 6
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in i..<n { let v = Double(rng.next() % 1000) / 100 - 5; a[i * n + j] = v; a[j * n + i] = v } }
        let fast = SymmetricEigen.decompose(a, n: n, vectors: true), ref = SymmetricEigen.jacobi(a, n: n)
        for (x, y) in zip(fast.values, ref.values) { XCTAssertEqual(x, y, accuracy: 1e-9) }
        // Eigenvectors up to sign: |⟨u, v⟩| = 1.
        for k in 0..<n {
            let dot = (0..<n).reduce(0.0) { $0 + fast.vectors[k * n + $1] * ref.vectors[k * n + $1] }
            XCTAssertEqual(abs(dot), 1, accuracy: 1e-9)
        }
    }
}

/// The perceptual accumulator on the streaming evaluator: chunk by chunk (any chunk size, with a save and
/// restore half-way) it gives the figures of the whole split computed at once.
final class PerceptualAccumulatorTests: XCTestCase {
    func fixture(_ name: String) -> String { Bundle.module.path(forResource: "Fixtures/" + name, ofType: nil)! }

    func testChunkedEqualsWholeAndResumes() throws {
        let net = try InceptionFeatures(file: try WeightFile.load(path: fixture("inception-w16.pt")))
        let alex = try LPIPSNetwork(.alex, file: try WeightFile.load(path: fixture("lpips-alex-w8.ckpt")))
        let suite = PerceptualSuite(metrics: [.rfid, .kid, .fidInf, .lpipsAlex], inception: net, lpips: [(.lpipsAlex, alex)])
        let a = try readNPYFile(path: fixture("images.npy")), r = try readNPYFile(path: fixture("recon.npy"))
        var o = ImageBatch(count: a.shape[0], channels: 3, height: a.shape[2], width: a.shape[3]); o.pixels = a.integers!.map { UInt8($0) }
        var rc = o; rc.pixels = r.integers!.map { UInt8($0) }
        // 8 pairs: the 4 fixture pairs and their swaps.
        let orig = ImageBatch.concatenate([o, rc]), recon = ImageBatch.concatenate([rc, o])
        func run(_ chunk: Int, resumeAt: Int? = nil) throws -> Accumulated {
            let dir = NSTemporaryDirectory() + "tokbench-perc-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            var acc = try PerceptualAccumulator(suite: suite, directory: dir)
            var b = 0
            while b < orig.count {
                let rg = b..<min(orig.count, b + chunk)
                try acc.consume(EvalChunk(first: b, originals: orig.slice(rg), reconstructions: recon.slice(rg), tokens: nil))
                b = rg.upperBound
                if b == resumeAt {
                    var w = StateWriter(); try acc.save(&w)
                    acc = try PerceptualAccumulator(suite: suite, directory: dir)
                    var rd = StateReader(w.bytes, path: "state"); try acc.restore(&rd)
                }
            }
            return try acc.finish()
        }
        let whole = try run(8)
        let keys = whole.values.map(\.metric.key)
        XCTAssertEqual(keys, ["rfid", "rfid_images", "kid", "kid_std", "fid_inf", "lpips_alex", "lpips_alex_ci95"])
        for (chunk, resume) in [(1, 3), (3, 6)] as [(Int, Int?)] {
            let c = try run(chunk, resumeAt: resume)
            for (x, y) in zip(c.values, whole.values) { XCTAssertEqual(x.value, y.value, accuracy: 1e-9 * max(1, abs(y.value)), "\(y.metric.key) chunk \(chunk)") }
            XCTAssertEqual(c.perImage[0].values, whole.perImage[0].values)
        }
        // The swapped halves make the two sets the same multiset: FID of a set against itself is 0.
        XCTAssertEqual(whole.values[0].value, 0, accuracy: 1e-6)
    }

    /// An exactly reconstructed chunk takes its originals' features: from this chunk's forward (bitwise the
    /// reconstructions' own forward), or, with a cache, the cache's rows (the marked rows below show they are
    /// taken from it, not recomputed); a chunk that differs by one byte is run through the network.
    func testExactChunkReusesTheOriginalsFeatures() throws {
        let net = try InceptionFeatures(file: try WeightFile.load(path: fixture("inception-w16.pt")))
        let suite = PerceptualSuite(metrics: [.rfid], inception: net, lpips: [])
        let a = try readNPYFile(path: fixture("images.npy"))
        var o = ImageBatch(count: a.shape[0], channels: 3, height: a.shape[2], width: a.shape[3]); o.pixels = a.integers!.map { UInt8($0) }
        let dir = NSTemporaryDirectory() + "tokbench-perc-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let own = net.features(of: o)
        // No cache: the reconstructions' spool equals the originals' and the network's own features.
        let acc = try PerceptualAccumulator(suite: suite, directory: dir + "/a")
        try acc.consume(EvalChunk(first: 0, originals: o, reconstructions: o, tokens: nil))
        let n = Array(0..<o.count)
        XCTAssertEqual(try acc.reconstructions!.read(n), own)
        XCTAssertEqual(try acc.originals!.read(n), own)
        XCTAssertEqual(try acc.finish().values[0].value, 0, accuracy: 1e-6)
        // A cache whose rows are marked (the features + 1): an exact chunk takes the marked rows.
        let cachePath = dir + "/cache.f32"
        let cache = try FeatureFile(path: cachePath, dimension: net.width)
        try cache.append(own.map { $0 + 1 }); try cache.close()
        let cached = try FeatureFile(reading: cachePath, dimension: net.width)
        let b = try PerceptualAccumulator(suite: suite, directory: dir + "/b", cachedOriginals: cached)
        try b.consume(EvalChunk(first: 0, originals: o.slice(0..<2), reconstructions: o.slice(0..<2), tokens: nil))
        var changed = o.slice(2..<o.count); changed.pixels[0] ^= 1
        try b.consume(EvalChunk(first: 2, originals: o.slice(2..<o.count), reconstructions: changed, tokens: nil))
        let got = try b.reconstructions!.read(n), d = net.width
        XCTAssertEqual(Array(got[0..<(2 * d)]), Array(own[0..<(2 * d)]).map { $0 + 1 })
        XCTAssertEqual(Array(got[(2 * d)...]), net.features(of: changed))
    }
}
