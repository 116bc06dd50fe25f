// Softmax cross-entropy over V classes (an autoregressive prior's loss):
//   logits z: [N, V], targets t: [N] in 0..<V → L = (1/N) Σ_n −log softmax(z_n)[t_n]   (nats; / ln 2 for bits)
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

    /// Mean negative log-likelihood in nats; per-row values (nats) in `perRow` when asked.
    @discardableResult
    public func forward(_ logits: Tensor, targets t: [Int], perRow: UnsafeMutablePointer<Double>? = nil) -> Double {
        precondition(logits.shape.count == 2 && logits.shape[0] == t.count, "SoftmaxCrossEntropy: logits \(logits.shape), \(t.count) targets")
        let N = logits.shape[0], V = logits.shape[1]
        precondition(t.allSatisfy { $0 >= 0 && $0 < V }, "SoftmaxCrossEntropy: a target outside 0..<\(V)")
        rows = N; classes = V; targets = t
        if probs.count != N * V { probs = [Float](repeating: 0, count: N * V) }
        var total = 0.0
        probs.withUnsafeMutableBufferPointer { pb in
            let p = pb.baseAddress!
            for n in 0..<N {
                let z = logits.data + n * V, row = p + n * V
                var mx = -Float.infinity
                for k in 0..<V { mx = max(mx, z[k]) }
                var s = 0.0
                for k in 0..<V { let e = expf(z[k] - mx); row[k] = e; s += Double(e) }
                let inv = Float(1 / s)
                for k in 0..<V { row[k] *= inv }
                // −log p_t = log Σ exp(z − max) − (z_t − max), in Double
                let nll = log(s) - Double(z[t[n]] - mx)
                perRow?[n] = nll
                total += nll
            }
        }
        return total / Double(max(1, N))
    }

    /// dL/dz for the last forward, scaled by `scale`. Layer-owned buffer.
    public func backward(scale: Float = 1) -> Tensor {
        precondition(rows > 0, "SoftmaxCrossEntropy.backward before forward")
        let g = reusing(grad, shape: [rows, classes]); grad = g
        let k = scale / Float(rows)
        for n in 0..<rows {
            for c in 0..<classes { g.data[n * classes + c] = k * probs[n * classes + c] }
            g.data[n * classes + targets[n]] -= k
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
