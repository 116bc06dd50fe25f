import Settings
import Kernels
import Layers

/// One codebook of K vectors of dimension d, readable top to bottom: nearest-code search as a
/// GEMM, EMA updates with Laplace-smoothed counts, k-means initialisation, dead-code restarts.
/// Used by the VQ-VAE bottleneck and by every stage of residual VQ.
/// Vectors come channel-major: v: [d, N], column n is one vector.
public final class Codebook {
    public let size: Int          // K
    public let dimension: Int     // d
    public let params: ParameterSet
    public let offset: Int        // weight [K, d] in the flat parameter buffer
    public let name: String

    // EMA state (also tracked in gradient mode: the counts drive usage and restarts).
    public var decay: Float = CodebookOptions.defaults.decay   // the owner sets its own option
    public var epsilon: Float = 1e-5
    public private(set) var clusterSize: [Float]      // [K] EMA of per-batch counts
    public private(set) var embedSum: [Float]         // [K, d] EMA of per-batch sums
    public var initialized = false

    /// Scores [rows, K] of the current chunk.
    private var scores: [Float] = []
    private var norms: [Float] = []

    public init(size: Int, dimension: Int, params: ParameterSet, name: String) {
        self.size = size; self.dimension = dimension; self.params = params; self.name = name
        // Uniform(±1/K) as in the reference VQ-VAE implementations.
        offset = params.register(name + ".weight", shape: [size, dimension], initializer: .uniform(bound: 1 / Float(size)))
        clusterSize = [Float](repeating: 0, count: size)
        embedSum = [Float](repeating: 0, count: size * dimension)
    }

    /// The codebook: [K, d].
    public var weights: UnsafeMutablePointer<Float> { params.value(offset) }

    /// Row k of the codebook.
    @inline(__always) public func code(_ k: Int) -> UnsafeMutablePointer<Float> { weights + k * dimension }

    // MARK: search

    /// Index of the nearest code (L2) for each column of v: [d, N]. Distances are
    /// ‖v‖² − 2 v·e + ‖e‖²; ‖v‖² is the same for every code, so argmin over ‖e‖² − 2 v·e,
    /// with v·e for a chunk of columns computed as one GEMM: scores = vᵀ Eᵀ, [rows, K].
    /// `codes` replaces the stored codes in the search (e.g. their normalised copy).
    public func nearest(_ v: UnsafePointer<Float>, count N: Int, into out: UnsafeMutablePointer<Int32>, codes: UnsafePointer<Float>? = nil) {
        let K = size, d = dimension
        let E = codes ?? UnsafePointer(weights)
        if norms.count != K { norms = [Float](repeating: 0, count: K) }
        for k in 0..<K {
            var s: Float = 0
            let e = E + k * d
            for j in 0..<d { s += e[j] * e[j] }
            norms[k] = s
        }
        let chunk = max(1, min(N, (1 << 22) / max(K, 1)))
        if scores.count < chunk * K { scores = [Float](repeating: 0, count: chunk * K) }
        var start = 0
        while start < N {
            let rows = min(chunk, N - start)
            scores.withUnsafeMutableBufferPointer { sc in
                // sc[r, k] = Σ_j v[j, start + r] · E[k, j]
                sgemm(transA: true, transB: true, m: rows, n: K, k: d, a: v + start, lda: N, b: E, ldb: d,
                      c: sc.baseAddress!, ldc: K)
                let scp = sc.baseAddress!
                norms.withUnsafeBufferPointer { nb in
                    let nrm = nb.baseAddress!
                    parallelRanges(rows, minimumPerTask: 64) { lo, hi in
                        for r in lo..<hi { out[start + r] = Int32(argminOfDistances(norms: nrm, scores: scp + r * K, count: K)) }
                    }
                }
            }
            start += rows
        }
    }

    /// argmin_k (‖e_k‖² − 2 s_k), the first k on ties (as a sequential `<` scan finds it), 16 codes at a time.
    @inline(__always)
    func argminOfDistances(norms: UnsafePointer<Float>, scores: UnsafePointer<Float>, count K: Int) -> Int {
        var k = 0
        var best = Float.infinity, arg = 0
        if K >= 16 {
            let nraw = UnsafeRawPointer(norms), sraw = UnsafeRawPointer(scores)
            var laneBest = SIMD16<Float>(repeating: .infinity), laneArg = SIMD16<Int32>(repeating: 0)
            var index = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
            while k + 16 <= K {
                let dist = nraw.loadUnaligned(fromByteOffset: k * 4, as: SIMD16<Float>.self)
                    - 2 * sraw.loadUnaligned(fromByteOffset: k * 4, as: SIMD16<Float>.self)
                let better = dist .< laneBest          // strict: each lane keeps its first minimum
                laneBest.replace(with: dist, where: better)
                laneArg.replace(with: index, where: better)
                index &+= 16
                k += 16
            }
            for l in 0..<16 where laneBest[l] < best || (laneBest[l] == best && Int(laneArg[l]) < arg) {
                best = laneBest[l]; arg = Int(laneArg[l])
            }
        }
        while k < K {
            let dist = norms[k] - 2 * scores[k]
            if dist < best { best = dist; arg = k }
            k += 1
        }
        return arg
    }

    /// Reference search: the plain loop over codes, exact squared distances in Double.
    public func nearestNaive(_ v: UnsafePointer<Float>, count N: Int) -> [Int32] {
        (0..<N).map { n in
            var best = Double.infinity, arg = 0
            for k in 0..<size {
                var dist = 0.0
                for j in 0..<dimension { let t = Double(v[j * N + n]) - Double(code(k)[j]); dist += t * t }
                if dist < best { best = dist; arg = k }
            }
            return Int32(arg)
        }
    }

    // MARK: updates

    /// Per-code counts and sums of the assigned vectors. v: [d, N]
    /// (Sums only when `sums`; each component j is summed over n in order, reading v's rows contiguously.)
    func statistics(_ v: UnsafePointer<Float>, count N: Int, indices: UnsafePointer<Int32>, sums wantSums: Bool = true) -> (counts: [Float], sums: [Float]) {
        var counts = [Float](repeating: 0, count: size), sums = [Float](repeating: 0, count: wantSums ? size * dimension : 0)
        for n in 0..<N { counts[Int(indices[n])] += 1 }
        guard wantSums else { return (counts, sums) }
        sums.withUnsafeMutableBufferPointer { s in
            for j in 0..<dimension {
                let row = v + j * N
                for n in 0..<N { s[Int(indices[n]) * dimension + j] += row[n] }
            }
        }
        return (counts, sums)
    }

    /// EMA codebook update (van den Oord et al. 2017, appendix; Razavi et al. 2019):
    ///   N_k ← γ N_k + (1 − γ) n_k,   m_k ← γ m_k + (1 − γ) Σ_{i→k} v_i,
    ///   Ñ_k = (N_k + ε) / (Σ N + K ε) · Σ N  (Laplace smoothing),   e_k = m_k / Ñ_k.
    public func emaUpdate(_ v: UnsafePointer<Float>, count N: Int, indices: UnsafePointer<Int32>, updateCodes: Bool) {
        let (counts, sums) = statistics(v, count: N, indices: indices, sums: updateCodes)
        let g = decay
        for k in 0..<size { clusterSize[k] = g * clusterSize[k] + (1 - g) * counts[k] }
        guard updateCodes else { return }
        for i in 0..<(size * dimension) { embedSum[i] = g * embedSum[i] + (1 - g) * sums[i] }
        let total = clusterSize.reduce(0, +)
        for k in 0..<size {
            let smoothed = (clusterSize[k] + epsilon) / (total + Float(size) * epsilon) * total
            let e = code(k)
            for j in 0..<dimension { e[j] = embedSum[k * dimension + j] / smoothed }
        }
    }

    /// Codes whose EMA count fell under `threshold` are re-seeded from random vectors of v
    /// (the current encoder outputs). Returns the restarted codes.
    @discardableResult
    public func restartDeadCodes(threshold: Float, from v: UnsafePointer<Float>, count N: Int, rng: inout Kernels.SplitMix64) -> [Int] {
        var dead: [Int] = []
        for k in 0..<size where clusterSize[k] < threshold {
            let n = rng.int(below: N)
            let e = code(k)
            for j in 0..<dimension { e[j] = v[j * N + n]; embedSum[k * dimension + j] = e[j] * threshold }
            clusterSize[k] = threshold
            dead.append(k)
        }
        return dead
    }

    /// k-means (Lloyd, `iterations` rounds) on v: [d, N], seeded from random distinct columns;
    /// sets the codes and the EMA statistics to the final clusters.
    public func kmeansInitialize(_ v: UnsafePointer<Float>, count N: Int, iterations: Int, rng: inout Kernels.SplitMix64) {
        let K = size, d = dimension
        let order = rng.permutation(N)
        for k in 0..<K {
            let n = k < N ? order[k] : rng.int(below: N)   // fewer vectors than codes: repeat some
            for j in 0..<d { code(k)[j] = v[j * N + n] }
        }
        var idx = [Int32](repeating: 0, count: N)
        for _ in 0..<iterations {
            idx.withUnsafeMutableBufferPointer { nearest(v, count: N, into: $0.baseAddress!) }
            let (counts, sums) = idx.withUnsafeBufferPointer { statistics(v, count: N, indices: $0.baseAddress!) }
            for k in 0..<K where counts[k] > 0 {
                for j in 0..<d { code(k)[j] = sums[k * d + j] / counts[k] }
            }
        }
        idx.withUnsafeMutableBufferPointer { nearest(v, count: N, into: $0.baseAddress!) }
        let (counts, _) = idx.withUnsafeBufferPointer { statistics(v, count: N, indices: $0.baseAddress!) }
        for k in 0..<K {
            clusterSize[k] = counts[k]
            for j in 0..<d { embedSum[k * d + j] = code(k)[j] * counts[k] }
        }
        initialized = true
    }

    /// Sets the EMA statistics (checkpoint restore, tests).
    public func loadState(clusterSize c: [Float], embedSum s: [Float]) {
        precondition(c.count == size && s.count == size * dimension)
        clusterSize = c; embedSum = s
    }

    /// Buffers to checkpoint.
    public var buffers: [(name: String, shape: [Int], values: [Float])] {
        [(name + ".cluster_size", [size], clusterSize), (name + ".embed_sum", [size, dimension], embedSum),
         (name + ".initialized", [1], [initialized ? 1 : 0])]
    }

    public func loadBuffers(_ b: [String: [Float]]) throws {
        guard let c = b[name + ".cluster_size"], c.count == size, let s = b[name + ".embed_sum"], s.count == size * dimension,
              let i = b[name + ".initialized"], i.count == 1 else {
            throw ConfigError(key: name, "checkpoint lacks the codebook buffers")
        }
        clusterSize = c; embedSum = s; initialized = i[0] != 0
    }
}

extension Codebook {
    /// Settings of a learned codebook, shared by the VQ-VAE bottleneck and every RVQ stage (declared once).
}

/// How a learned codebook is kept alive, shared by the VQ-VAE bottleneck and residual VQ (each stage).
public struct CodebookOptions: Equatable, Sendable, DeclaredOptions {
    public var decay: Float = 0, kmeansInit = false, kmeansIterations = 0, restart = false, deadThreshold: Float = 0
    public static let unset = CodebookOptions()
    private init() {}
    public static var options: [Option<CodebookOptions>] {
        [
            .float("decay", \.decay, default: 0.99, "EMA decay", check: ConfigKey.unitInterval),
            .bool("kmeans_init", \.kmeansInit, default: true, "k-means initialisation on the first batch"),
            .int("kmeans_iterations", \.kmeansIterations, default: 10, "Lloyd rounds of the k-means initialisation", check: ConfigKey.intIn(1...1000)),
            .bool("restart", \.restart, default: true, "re-seed dead codes from current encoder outputs (residuals, in RVQ)"),
            .float("dead_threshold", \.deadThreshold, default: 1.0, "EMA count under which a code is dead", check: ConfigKey.nonNegative),
        ]
    }
}

extension Option {
    /// β, the commitment weight, declared once for every quantizer with a commitment loss.
    public static func commitment(_ p: WritableKeyPath<Root, Float>) -> Option {
        .float("commitment", p, default: 0.25, "commitment weight beta", check: ConfigKey.nonNegative)
    }
}
