// Multi-head self-attention (scaled dot product, softmax), PyTorch-style fused projections:
//   x: [B, T, C] → qkv = x·W_qkvᵀ + b [B, T, 3C] (q, k, v side by side) → per batch b and head h
//   (d = C/H channels each): S = Q·Kᵀ/√d [T, T], P = softmax_rows(S), O = P·V [T, d] → the heads side
//   by side [B, T, C] → out = O·W_projᵀ + b [B, T, C].
// Backward per (b, h): dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P)), dQ = dS·K/√d, dK = dSᵀ·Q/√d.
// The GEMMs read the heads in place through leading dimensions (3C for q/k/v, C for the output).
// Causal (an autoregressive prior): S[t, u] = −∞ for u > t before the softmax, so query t sees keys 0…t
// only; P is then 0 there and the backward's dS vanishes with it.
// `naiveHeads` is the reference loop the tests hold this against.
import Kernels
#if canImport(Glibc)
import Glibc
#endif

public final class MultiHeadAttention: Layer {
    public let features: Int          // C
    public let heads: Int             // H
    public let causal: Bool
    public let qkv: Linear            // C → 3C
    public let proj: Linear           // C → C
    private var qkvOut: Tensor?       // [B, T, 3C]
    private var probs: Tensor?        // P [B, H, T, T]
    private var mixed: Tensor?       // O [B, T, C]
    private var dHeads: Tensor?       // dO → dqkv
    private var dqkv: Tensor?
    private var dP: [Float] = []
    public private(set) var forwardFLOPs: Double = 0

    public init(features: Int, heads: Int, causal: Bool = false, params: ParameterSet, name: String) {
        precondition(features % heads == 0, "MultiHeadAttention: \(features) features not divisible by \(heads) heads")
        self.features = features; self.heads = heads; self.causal = causal
        qkv = Linear(features, 3 * features, params: params, name: "\(name).qkv")
        proj = Linear(features, features, params: params, name: "\(name).proj")
    }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 3 && x.shape[2] == features, "MultiHeadAttention: expected [B, T, \(features)], got \(x.shape)")
        let B = x.shape[0], T = x.shape[1], C = features, H = heads, d = C / H
        let q3 = qkv.forward(x); qkvOut = q3
        let P = reusing(probs, shape: [B, H, T, T]); probs = P
        let O = reusing(mixed, shape: [B, T, C]); mixed = O
        let scale = 1 / Float(d).squareRoot()
        // one (b, h) pair per task, each with single-threaded GEMMs (small matrices: T×T×d)
        let causal = self.causal, qd = q3.data, pd = P.data, od = O.data
        Self.eachHead(B * H) { bh in
            let b = bh / H, h = bh % H
            let base = qd + b * T * 3 * C
            let Q = base + h * d, K = base + C + h * d, V = base + 2 * C + h * d
            let p = pd + bh * T * T
            sgemmSerial(transB: true, m: T, n: T, k: d, alpha: scale, a: Q, lda: 3 * C, b: K, ldb: 3 * C, c: p, ldc: T)
            if causal { for t in 0..<T { for u in (t + 1)..<max(t + 1, T) { p[t * T + u] = -.infinity } } }
            for t in 0..<T { softmaxInPlace(p + t * T, count: T) }
            sgemmSerial(m: T, n: d, k: T, a: p, lda: T, b: V, ldb: 3 * C, c: od + b * T * C + h * d, ldc: C)
        }
        let y = proj.forward(O)
        forwardFLOPs = qkv.forwardFLOPs + proj.forwardFLOPs + 4 * Double(B * H * T * T * d)
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let q3 = qkvOut, let P = probs else { preconditionFailure("MultiHeadAttention.backward before forward") }
        let B = q3.shape[0], T = q3.shape[1], C = features, H = heads, d = C / H
        let dO = proj.backward(dy)
        let g = reusing(dqkv, shape: q3.shape); dqkv = g
        if dP.count != B * H * T * T { dP = [Float](repeating: 0, count: B * H * T * T) }
        let scale = 1 / Float(d).squareRoot()
        let qd = q3.data, gd = g.data, pd = P.data, dOd = dO.data
        dP.withUnsafeMutableBufferPointer { db in
            let dpAll = db.baseAddress!
            Self.eachHead(B * H) { bh in   // one (b, h) pair per task, its own dP scratch
                let b = bh / H, h = bh % H
                let base = qd + b * T * 3 * C, gbase = gd + b * T * 3 * C
                let Q = base + h * d, K = base + C + h * d, V = base + 2 * C + h * d
                let p = pd + bh * T * T, dp = dpAll + bh * T * T
                let o = dOd + b * T * C + h * d
                // dV = Pᵀ·dO
                sgemmSerial(transA: true, m: T, n: d, k: T, a: p, lda: T, b: o, ldb: C, c: gbase + 2 * C + h * d, ldc: 3 * C)
                // dP = dO·Vᵀ, then dS in place
                sgemmSerial(transB: true, m: T, n: T, k: d, a: o, lda: C, b: V, ldb: 3 * C, c: dp, ldc: T)
                for t in 0..<T {
                    var s: Float = 0
                    for u in 0..<T { s += dp[t * T + u] * p[t * T + u] }
                    for u in 0..<T { dp[t * T + u] = p[t * T + u] * (dp[t * T + u] - s) }
                }
                // dQ = dS·K/√d, dK = dSᵀ·Q/√d
                sgemmSerial(m: T, n: d, k: T, alpha: scale, a: dp, lda: T, b: K, ldb: 3 * C, c: gbase + h * d, ldc: 3 * C)
                sgemmSerial(transA: true, m: T, n: d, k: T, alpha: scale, a: dp, lda: T, b: Q, ldb: 3 * C, c: gbase + C + h * d, ldc: 3 * C)
            }
        }
        return qkv.backward(g)
    }

    /// body(i) for every (b, h) pair: in parallel when OpenBLAS runs single-threaded under our own workers
    /// (Threading.splitsGEMM), else in order (no BLAS call nested in a parallel loop).
    static func eachHead(_ n: Int, _ body: (Int) -> Void) {
        if Threading.splitsGEMM { parallelFor(n, body) } else { for i in 0..<n { body(i) } }
    }

    /// The reference loop (the same maths, one scalar at a time, in Double): qkv [B, T, 3C] → O [B, T, C]
    /// before the output projection.
    public static func naiveHeads(_ qkv: [Double], B: Int, T: Int, C: Int, H: Int, causal: Bool = false) -> [Double] {
        let d = C / H
        var out = [Double](repeating: 0, count: B * T * C)
        for b in 0..<B { for h in 0..<H { for t in 0..<T {
            var s = [Double](repeating: 0, count: T)
            for u in 0..<T {
                var acc = 0.0
                for i in 0..<d { acc += qkv[(b * T + t) * 3 * C + h * d + i] * qkv[(b * T + u) * 3 * C + C + h * d + i] }
                s[u] = acc / Double(d).squareRoot()
            }
            let seen = causal ? t + 1 : T            // keys 0…t only when causal
            let mx = s[0..<seen].max()!
            let e = (0..<T).map { $0 < seen ? exp(s[$0] - mx) : 0 }, z = e.reduce(0, +)
            for i in 0..<d {
                var acc = 0.0
                for u in 0..<T { acc += e[u] / z * qkv[(b * T + u) * 3 * C + 2 * C + h * d + i] }
                out[(b * T + t) * C + h * d + i] = acc
            }
        } } }
        return out
    }
}
