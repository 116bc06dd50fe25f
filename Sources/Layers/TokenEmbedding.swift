// A learned embedding table (PyTorch nn.Embedding): ids [B, T] in 0..<V → x [B, T, C] = W[id], W: [V, C]
// (N(0, 0.02²)). Backward: dW[v] += Σ over positions holding v of dy; ids have no gradient.
import Kernels

public final class TokenEmbedding {
    public let vocabulary, features: Int      // V, C
    public let offset: Int
    public let params: ParameterSet
    private var ids: [Int] = []
    private var output: Tensor?

    public init(vocabulary V: Int, features C: Int, params: ParameterSet, name: String) {
        vocabulary = V; features = C; self.params = params
        offset = params.register(name, shape: [V, C], initializer: .normal(std: 0.02))
    }

    /// ids: B·T values in 0..<V, row-major [B, T].
    public func forward(_ ids: [Int], batch B: Int, length T: Int) -> Tensor {
        precondition(ids.count == B * T && ids.allSatisfy { $0 >= 0 && $0 < vocabulary }, "TokenEmbedding: ids outside 0..<\(vocabulary)")
        self.ids = ids
        let y = reusing(output, shape: [B, T, features]); output = y
        let w = params.value(offset), C = features
        for (n, id) in ids.enumerated() { (y.data + n * C).update(from: w + id * C, count: C) }
        return y
    }

    public func backward(_ dy: Tensor) {
        let g = params.grad(offset), C = features
        for (n, id) in ids.enumerated() { for i in 0..<C { g[id * C + i] += dy.data[n * C + i] } }
    }
}
