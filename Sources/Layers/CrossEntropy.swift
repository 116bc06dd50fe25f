// Softmax cross-entropy over V classes (an autoregressive prior's loss):
//   logits z: [N, V] (or [..., V], N rows), targets t: [N] in 0..<V → L = (1/N) Σ_n −log softmax(z_n)[t_n]   (nats; / ln 2 for bits)
//   dL/dz_n = (softmax(z_n) − onehot(t_n)) / N.
// `naiveLoss` is the reference in Double the tests hold this against.
import Foundation
import Kernels

public final class SoftmaxCrossEntropy {
    private var probs: [Float] = []
    private var targets: [Int] = []
    private var grad: Tensor?
    private var rows = 0, classes = 0
    public init() {}

    /// Mean negative log-likelihood in nats; per-row values (nats) in `perRow` when asked. Rows run in
    /// parallel; each row's softmax is kept for `backward` unless `keepForBackward` is false (evaluation).
    @discardableResult
    public func forward(_ logits: Tensor, targets t: [Int], perRow: UnsafeMutablePointer<Double>? = nil, keepForBackward: Bool = true) -> Double {
        // logits [..., V]: N = the leading dimensions' product rows (a [B, T, V] head output is [B·T, V], no copy)
        precondition(logits.shape.count >= 2, "SoftmaxCrossEntropy: logits \(logits.shape), expected [..., V]")
        let V = logits.shape.last!, N = logits.count / max(1, V)
        precondition(N == t.count, "SoftmaxCrossEntropy: logits \(logits.shape), \(t.count) targets")
        precondition(t.allSatisfy { $0 >= 0 && $0 < V }, "SoftmaxCrossEntropy: a target outside 0..<\(V)")
        rows = N; classes = V; targets = t
        if keepForBackward && probs.count != N * V { probs = [Float](repeating: 0, count: N * V) }
        var nll = [Double](repeating: 0, count: N)
        let z0 = logits.data
        nll.withUnsafeMutableBufferPointer { out in
            let o = out.baseAddress!
            func row(_ n: Int, _ dst: UnsafeMutablePointer<Float>?) {
                let z = z0 + n * V
                var mx = -Float.infinity
                for k in 0..<V { mx = max(mx, z[k]) }
                // Σ exp(z − max): Float within blocks of 256, the blocks summed in Double
                var s = 0.0, k = 0
                while k < V {
                    let hi = min(V, k + 256)
                    var b: Float = 0
                    if let d = dst { for j in k..<hi { let e = expf(z[j] - mx); d[j] = e; b += e } } else { for j in k..<hi { b += expf(z[j] - mx) } }
                    s += Double(b); k = hi
                }
                if let d = dst { let inv = Float(1 / s); for j in 0..<V { d[j] *= inv } }
                // −log p_t = log Σ exp(z − max) − (z_t − max), in Double
                o[n] = log(s) - Double(z[t[n]] - mx)
            }
            if keepForBackward {
                probs.withUnsafeMutableBufferPointer { pb in
                    let p = pb.baseAddress!
                    parallelFor(N, minimumPerTask: max(1, 32768 / max(1, V))) { n in row(n, p + n * V) }
                }
            } else {
                parallelFor(N, minimumPerTask: max(1, 32768 / max(1, V))) { n in row(n, nil) }
            }
        }
        if let perRow { for n in 0..<N { perRow[n] = nll[n] } }
        return nll.reduce(0, +) / Double(max(1, N))
    }

    /// dL/dz for the last forward, scaled by `scale`. Layer-owned buffer.
    public func backward(scale: Float = 1) -> Tensor {
        precondition(rows > 0 && probs.count == rows * classes, "SoftmaxCrossEntropy.backward before a forward that kept its softmax")
        let g = reusing(grad, shape: [rows, classes]); grad = g
        let k = scale / Float(rows), V = classes, gd = g.data, t = targets
        probs.withUnsafeBufferPointer { pb in
            let p = pb.baseAddress!
            parallelFor(rows, minimumPerTask: max(1, 32768 / max(1, V))) { n in
                let src = p + n * V, dst = gd + n * V
                for c in 0..<V { dst[c] = k * src[c] }
                dst[t[n]] -= k
            }
        }
        return g
    }

    /// Reference: the mean negative log-likelihood in Double, one row at a time.
    public static func naiveLoss(_ logits: [Double], rows N: Int, classes V: Int, targets t: [Int]) -> Double {
        var total = 0.0
        for n in 0..<N {
            let z = logits[(n * V)..<((n + 1) * V)]
            let mx = z.max()!
            let lse = log(z.reduce(0) { $0 + exp($1 - mx) }) + mx
            total += lse - logits[n * V + t[n]]
        }
        return total / Double(N)
    }
}
