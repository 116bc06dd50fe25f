// The statistics of a set of features and the distances between sets, in Double:
// - `FeatureMoments`: running Σx and Σxxᵀ, chunk by chunk; mean and the unbiased covariance (np.cov's N − 1);
// - `Frechet.distance`: ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁^½ Σ₂ Σ₁^½)^½, through symmetric eigendecompositions
//   (negative eigenvalues of the PSD matrices, from rounding or rank deficiency, are taken as 0);
// - `KID.estimate`: unbiased MMD² with the kernel (xᵀy/d + 1)³ over random subsets (torch-fidelity's definition);
// - `FIDInfinity.estimate`: FID at several N against 1/N, extrapolated to 1/N = 0 (Chong & Forsyth 2020).
import Foundation
import Kernels

public struct FeatureMoments {
    public let dimension: Int
    public private(set) var count = 0
    var sum: [Double]
    var outer: [Double]        // [D, D] Σ x xᵀ

    public init(dimension: Int) {
        self.dimension = dimension
        sum = [Double](repeating: 0, count: dimension); outer = [Double](repeating: 0, count: dimension * dimension)
    }

    /// features: [rows, D].
    public mutating func add(_ features: [Float], rows: Int) {
        precondition(features.count == rows * dimension)
        if rows == 0 { return }
        let x = features.map(Double.init)
        for r in 0..<rows { for j in 0..<dimension { sum[j] += x[r * dimension + j] } }
        let d = dimension
        x.withUnsafeBufferPointer { xp in outer.withUnsafeMutableBufferPointer { o in
            dgemm(transA: true, m: d, n: d, k: rows, a: xp.baseAddress!, lda: d, b: xp.baseAddress!, ldb: d, beta: 1, c: o.baseAddress!, ldc: d)
        } }
        count += rows
    }

    public var mean: [Double] { sum.map { $0 / Double(max(1, count)) } }

    /// The unbiased covariance [D, D] (needs ≥ 2 rows).
    public var covariance: [Double] {
        let mu = mean, n = Double(count), d = dimension
        var c = [Double](repeating: 0, count: d * d)
        for i in 0..<d { for j in 0..<d { c[i * d + j] = (outer[i * d + j] - n * mu[i] * mu[j]) / (n - 1) } }
        return c
    }

    public func save() -> [Double] { [Double(count)] + sum + outer }
    public init?(dimension: Int, saved v: [Double]) {
        guard v.count == 1 + dimension + dimension * dimension, v[0] >= 0, v[0] == v[0].rounded() else { return nil }
        self.dimension = dimension; count = Int(v[0])
        sum = Array(v[1...dimension]); outer = Array(v[(1 + dimension)...])
    }
}

public enum Frechet {
    /// Σ^½ of a symmetric PSD matrix [n, n].
    public static func squareRoot(_ s: [Double], n: Int) -> [Double] {
        let (values, vectors) = SymmetricEigen.decompose(s, n: n, vectors: true)
        // Σ^½ = Vᵀ diag(√λ) V with the eigenvectors as the rows of V.
        var scaled = vectors
        for k in 0..<n { let r = max(0, values[k]).squareRoot(); for i in 0..<n { scaled[k * n + i] *= r } }
        var out = [Double](repeating: 0, count: n * n)
        vectors.withUnsafeBufferPointer { v in scaled.withUnsafeBufferPointer { sv in out.withUnsafeMutableBufferPointer { o in
            dgemm(transA: true, m: n, n: n, k: n, a: v.baseAddress!, lda: n, b: sv.baseAddress!, ldb: n, c: o.baseAddress!, ldc: n)
        } } }
        return out
    }

    /// tr (A Σ₂ A)^½ for A = Σ₁^½ (= tr (Σ₁ Σ₂)^½).
    public static func traceSqrtProduct(root1: [Double], _ s2: [Double], n: Int) -> Double {
        var t = [Double](repeating: 0, count: n * n), m = [Double](repeating: 0, count: n * n)
        root1.withUnsafeBufferPointer { a in s2.withUnsafeBufferPointer { b in t.withUnsafeMutableBufferPointer { o in
            dgemm(m: n, n: n, k: n, a: a.baseAddress!, lda: n, b: b.baseAddress!, ldb: n, c: o.baseAddress!, ldc: n)
        } } }
        t.withUnsafeBufferPointer { a in root1.withUnsafeBufferPointer { b in m.withUnsafeMutableBufferPointer { o in
            dgemm(m: n, n: n, k: n, a: a.baseAddress!, lda: n, b: b.baseAddress!, ldb: n, c: o.baseAddress!, ldc: n)
        } } }
        for i in 0..<n { for j in (i + 1)..<n { let v = (m[i * n + j] + m[j * n + i]) / 2; m[i * n + j] = v; m[j * n + i] = v } }
        return SymmetricEigen.decompose(m, n: n, vectors: false).values.reduce(0) { $0 + max(0, $1).squareRoot() }
    }

    public static func distance(mean1: [Double], cov1: [Double], mean2: [Double], cov2: [Double], root1: [Double]? = nil) -> Double {
        let n = mean1.count
        var d = 0.0
        for i in 0..<n { d += (mean1[i] - mean2[i]) * (mean1[i] - mean2[i]) + cov1[i * n + i] + cov2[i * n + i] }
        return d - 2 * traceSqrtProduct(root1: root1 ?? squareRoot(cov1, n: n), cov2, n: n)
    }
}

/// Rows of a feature set, read by index (a spool file or memory).
public protocol FeatureRows {
    var rows: Int { get }
    var dimension: Int { get }
    func read(_ indices: [Int]) throws -> [Float]         // [indices.count, D]
}

public struct FeatureArray: FeatureRows {
    public let values: [Float]
    public let dimension: Int
    public var rows: Int { values.count / dimension }
    public init(_ values: [Float], dimension: Int) { self.values = values; self.dimension = dimension }
    public func read(_ indices: [Int]) throws -> [Float] { indices.flatMap { values[($0 * dimension)..<(($0 + 1) * dimension)] } }
}

public enum KID {
    public static let subsets = 100, subsetSize = 1000

    /// Unbiased MMD² of two equal-size samples [m, d] with k(x, y) = (xᵀy/d + 1)³.
    public static func mmd(_ x: [Double], _ y: [Double], m: Int, d: Int) -> Double {
        func gram(_ a: [Double], _ b: [Double]) -> [Double] {
            var g = [Double](repeating: 0, count: m * m)
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in g.withUnsafeMutableBufferPointer { o in
                dgemm(transB: true, m: m, n: m, k: d, alpha: 1 / Double(d), a: ap.baseAddress!, lda: d, b: bp.baseAddress!, ldb: d, c: o.baseAddress!, ldc: m)
            } } }
            return g.map { let v = $0 + 1; return v * v * v }
        }
        let kxx = gram(x, x), kyy = gram(y, y), kxy = gram(x, y)
        var sxx = 0.0, syy = 0.0
        for i in 0..<m { for j in 0..<m where i != j { sxx += kxx[i * m + j]; syy += kyy[i * m + j] } }
        let sxy = kxy.reduce(0, +)
        let mm = Double(m)
        return (sxx + syy) / (mm * (mm - 1)) - 2 * sxy / (mm * mm)
    }

    /// KID's mean and standard deviation over `subsets` random subsets of size min(N₁, N₂, subsetSize)
    /// (indices drawn without replacement, seeded).
    public static func estimate(_ a: FeatureRows, _ b: FeatureRows, subsets: Int = subsets, subsetSize: Int = subsetSize,
                                seed: UInt64 = 0) throws -> (mean: Double, std: Double, subsetSize: Int) {
        let m = min(a.rows, b.rows, subsetSize), d = a.dimension
        precondition(m >= 2)
        var rng = SplitMix64(seed: seed)
        var values: [Double] = []
        for _ in 0..<subsets {
            let ia = sample(a.rows, m, &rng), ib = sample(b.rows, m, &rng)
            values.append(mmd(try a.read(ia).map(Double.init), try b.read(ib).map(Double.init), m: m, d: d))
        }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(1, values.count))
        return (mean, variance.squareRoot(), m)
    }

    /// m distinct indices of 0..<n (a partial Fisher–Yates shuffle).
    static func sample(_ n: Int, _ m: Int, _ rng: inout SplitMix64) -> [Int] {
        var p = Array(0..<n)
        for i in 0..<m { let j = i + Int(rng.next() % UInt64(n - i)); p.swapAt(i, j) }
        return Array(p[0..<m])
    }
}

public enum FIDInfinity {
    /// FID of subsets of `b` (sizes `sizes`, seeded draws) against the whole of `a`'s statistics, fitted as
    /// FID = FID∞ + slope / N by least squares; returns the intercept and the points.
    public static func estimate(reference mean1: [Double], cov1: [Double], _ b: FeatureRows, sizes: [Int], seed: UInt64 = 0) throws
        -> (value: Double, points: [(n: Int, fid: Double)]) {
        let d = b.dimension
        let root1 = Frechet.squareRoot(cov1, n: d)
        var rng = SplitMix64(seed: seed)
        var points: [(n: Int, fid: Double)] = []
        for n in sizes {
            var m = FeatureMoments(dimension: d)
            let idx = KID.sample(b.rows, n, &rng)
            var k = 0
            while k < idx.count {
                let part = Array(idx[k..<min(idx.count, k + 1024)])
                m.add(try b.read(part), rows: part.count)
                k += part.count
            }
            points.append((n, Frechet.distance(mean1: mean1, cov1: cov1, mean2: m.mean, cov2: m.covariance, root1: root1)))
        }
        // Least squares of fid on x = 1/N.
        let xs = points.map { 1 / Double($0.n) }, ys = points.map(\.fid)
        let mx = xs.reduce(0, +) / Double(xs.count), my = ys.reduce(0, +) / Double(ys.count)
        let sxx = xs.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
        let sxy = zip(xs, ys).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
        let slope = sxx > 0 ? sxy / sxx : 0
        return (my - slope * mx, points)
    }

    /// The subset sizes used for a set of N: 9 evenly spaced from N/5 to N (Chong & Forsyth use 5,000 … 50,000).
    public static func sizes(for n: Int) -> [Int] {
        (0..<9).map { k in max(2, Int((Double(n) * (0.2 + 0.1 * Double(k))).rounded())) }
    }
}

/// A spool of feature rows on disk: [rows, D] little-endian float32, appended chunk by chunk and read back
/// through a memory map (KID and FID∞ draw subsets by index; the moments read it in order).
public final class FeatureFile: FeatureRows {
    public let path: String
    public let dimension: Int
    public private(set) var rows: Int
    var handle: FileHandle?
    var mapped: Data?

    /// A new spool (truncating), or, with `keep`, an existing one cut back to `keep` rows (a resumed evaluation).
    public init(path: String, dimension: Int, keep: Int = 0) throws {
        self.path = path; self.dimension = dimension
        let fm = FileManager.default
        if keep == 0 || !fm.fileExists(atPath: path) {
            guard fm.createFile(atPath: path, contents: nil) else { throw WeightsError("\(path): cannot create the feature spool") }
        }
        guard let h = FileHandle(forUpdatingAtPath: path) else { throw WeightsError("\(path): cannot open the feature spool") }
        let size = Int(try h.seekToEnd())
        guard keep * dimension * 4 <= size else { throw WeightsError("\(path): the feature spool holds fewer than the \(keep) rows the saved state counts") }
        try h.truncate(atOffset: UInt64(keep * dimension * 4))
        try h.seekToEnd()
        handle = h; rows = keep
    }

    /// A finished spool or cache file, read only.
    public init(reading path: String, dimension: Int) throws {
        self.path = path; self.dimension = dimension
        let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? -1
        guard size >= 0, size % (4 * dimension) == 0 else { throw WeightsError("\(path): not a feature file of \(dimension)-d float32 rows") }
        rows = size / (4 * dimension)
    }

    public func append(_ features: [Float]) throws {
        precondition(features.count % dimension == 0)
        guard let h = handle else { throw WeightsError("\(path): the feature spool is closed") }
        var bytes = [UInt8](repeating: 0, count: 4 * features.count)
        bytes.withUnsafeMutableBytes { raw in for (k, f) in features.enumerated() { raw.storeBytes(of: f.bitPattern.littleEndian, toByteOffset: 4 * k, as: UInt32.self) } }
        try h.write(contentsOf: bytes)
        rows += features.count / dimension
        mapped = nil
    }

    public func close() throws { try handle?.synchronize(); try handle?.close(); handle = nil }

    public func read(_ indices: [Int]) throws -> [Float] {
        if mapped == nil {
            try handle?.synchronize()
            mapped = rows == 0 ? Data() : try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        }
        let d = dimension
        guard let m = mapped, m.count >= rows * d * 4 else { throw WeightsError("\(path): the feature spool is shorter than its \(rows) rows") }
        var out = [Float](repeating: 0, count: indices.count * d)
        m.withUnsafeBytes { raw in
            for (r, i) in indices.enumerated() {
                precondition(i >= 0 && i < rows)
                for j in 0..<d { out[r * d + j] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: (i * d + j) * 4, as: UInt32.self))) }
            }
        }
        return out
    }

    /// Mean and covariance of all rows, read 1,024 at a time.
    public func moments() throws -> FeatureMoments {
        var m = FeatureMoments(dimension: dimension)
        var k = 0
        while k < rows {
            let n = min(1024, rows - k)
            m.add(try read(Array(k..<(k + n))), rows: n)
            k += n
        }
        return m
    }
}
