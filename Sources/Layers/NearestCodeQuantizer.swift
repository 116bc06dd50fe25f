// Nearest-code vector quantizer (VQ-VAE, van den Oord et al. 2017) with a straight-through estimator.
// z: [B, D, h, w] (NCHW) → z_q: [B, D, h, w], indices: [B·h·w] (row n = (b·h + y)·w + x).
// Nearest code by one GEMM: argmin_k ‖E_k‖² − 2 z·E_k over the codebook E: [K, D]
// ("<name>.embedding.weight", init U(±1/K)).
// Loss = ‖sg(z) − e‖²/numel (codebook) + β‖z − sg(e)‖²/numel (commitment).
// backward(dz_q): dz = dz_q (straight-through) + 2β(z − e)/numel; dE_k += 2 Σ_{n→k} (e_k − z_n)/numel.
import Kernels

public final class NearestCodeQuantizer {
    public let codes: Int       // K
    public let dimension: Int   // D
    public var commitment: Float
    public let codebookOffset: Int
    public let params: ParameterSet
    public private(set) var indices: [Int32] = []
    /// Codebook + β·commitment loss of the last forward.
    public private(set) var loss: Float = 0
    private var rows: Tensor?     // z as rows: [N, D]
    private var scores: Tensor?   // [N, K]
    private var norms: Tensor?    // ‖E_k‖²: [K]
    private var output: Tensor?   // z_q: [B, D, h, w]
    private var dInput: Tensor?
    private var input: Tensor?
    private var partialLoss: Tensor?   // per-row ‖z − e‖²: [N]
    public private(set) var forwardFLOPs: Double = 0

    public init(codes: Int, dimension: Int, commitment: Float = 0.25, params: ParameterSet, name: String = "quantizer") {
        self.codes = codes; self.dimension = dimension; self.commitment = commitment; self.params = params
        codebookOffset = params.register("\(name).embedding.weight", shape: [codes, dimension], initializer: .uniform(bound: 1 / Float(codes)))
    }

    // z: [B, D, h, w] → z_q: [B, D, h, w]
    public func forward(_ z: Tensor) -> Tensor {
        precondition(z.shape.count == 4 && z.shape[1] == dimension, "NearestCodeQuantizer: expected [B, \(dimension), h, w], got \(z.shape)")
        input = z
        let B = z.shape[0], HW = z.shape[2] * z.shape[3], D = dimension, K = codes, N = B * HW
        let r = reusing(rows, shape: [N, D]); rows = r
        let s = reusing(scores, shape: [N, K]); scores = s
        let en = reusing(norms, shape: [K]); norms = en
        let zq = reusing(output, shape: z.shape); output = zq
        if indices.count != N { indices = [Int32](repeating: 0, count: N) }
        let E = params.value(codebookOffset)
        // rows[b·HW + p, d] = z[b, d, p]
        parallelFor(B) { b in
            for d in 0..<D {
                let src = z.data + (b * D + d) * HW
                for p in 0..<HW { r.data[(b * HW + p) * D + d] = src[p] }
            }
        }
        for k in 0..<K { var a: Float = 0; for d in 0..<D { a += E[k * D + d] * E[k * D + d] }; en.data[k] = a }
        // dist[N, K] = ‖E_k‖² − 2·rows[N, D]·Eᵀ[D, K]: rows pre-filled with ‖E‖², then one GEMM (alpha −2, beta 1).
        parallelFor(N, minimumPerTask: 64) { n in (s.data + n * K).update(from: en.data, count: K) }
        sgemm(transB: true, m: N, n: K, k: D, alpha: -2, a: r.data, lda: D, b: E, ldb: D, beta: 1, c: s.data, ldc: K)
        let partial = reusing(partialLoss, shape: [N]); partialLoss = partial
        indices.withUnsafeMutableBufferPointer { idx in
            let ip = idx.baseAddress!
            parallelFor(N, minimumPerTask: 64) { n in
                let k = argmin(s.data + n * K, count: K)
                ip[n] = Int32(k)
                let e = E + k * D, zr = r.data + n * D
                var a: Float = 0
                for d in 0..<D { let diff = zr[d] - e[d]; a += diff * diff }
                partial.data[n] = a
            }
            parallelFor(B) { b in
                for p in 0..<HW {
                    let e = E + Int(ip[b * HW + p]) * D
                    for d in 0..<D { zq.data[(b * D + d) * HW + p] = e[d] }
                }
            }
        }
        let lossSum = sum(partial)
        loss = Float(lossSum / Double(N * D)) * (1 + commitment)
        forwardFLOPs = 2 * Double(N) * Double(K) * Double(D)
        return zq
    }

    // dz_q: [B, D, h, w] → dz: [B, D, h, w]; accumulates the codebook gradient.
    public func backward(_ dzq: Tensor) -> Tensor {
        guard let z = input, let zq = output else { preconditionFailure("NearestCodeQuantizer.backward before forward") }
        let B = z.shape[0], HW = z.shape[2] * z.shape[3], D = dimension
        let dz = reusing(dInput, shape: z.shape); dInput = dz
        let scale = 2 / Float(z.count)
        let beta = commitment
        let zd = z.data, qd = zq.data, gd = dzq.data, od = dz.data
        parallelRanges(z.count, minimumPerTask: 1 << 15) { lo, hi in
            for i in lo..<hi { od[i] = gd[i] + beta * scale * (zd[i] - qd[i]) }
        }
        let dE = params.grad(codebookOffset)
        for b in 0..<B {
            for p in 0..<HW {
                let k = Int(indices[b * HW + p])
                for d in 0..<D {
                    let i = (b * D + d) * HW + p
                    dE[k * D + d] += scale * (qd[i] - zd[i])
                }
            }
        }
        return dz
    }
}

/// Σ of a tensor's elements in Double.
private func sum(_ t: Tensor) -> Double {
    var s = 0.0
    for i in 0..<t.count { s += Double(t.data[i]) }
    return s
}

/// Index of the first minimum of x[0..<count] (SIMD8 scan, then exact tie-break to the lowest index).
@inline(__always)
func argmin(_ x: UnsafePointer<Float>, count: Int) -> Int {
    var best = Float.infinity
    var i = 0
    if count >= 8 {
        var m = SIMD8<Float>(repeating: .infinity)
        let raw = UnsafeRawPointer(x)
        while i + 8 <= count {
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            m = pointwiseMin(m, v)
            i += 8
        }
        best = m.min()
    }
    while i < count { best = min(best, x[i]); i += 1 }
    for k in 0..<count where x[k] == best { return k }
    return 0   // all NaN
}
