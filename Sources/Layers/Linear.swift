// Linear (PyTorch nn.Linear): x: [..., in] → y: [..., out] = x·Wᵀ + b (leading dimensions kept, N rows in all).
// weight: [out, in], bias: [out].
// Note: features-last layout, unlike the conv layers' channel-major [C, B, H, W].
import Kernels

public final class Linear: Layer {
    public let inFeatures, outFeatures: Int
    public let weightOffset: Int
    public let biasOffset: Int?
    public let params: ParameterSet
    public var computesInputGradient = true
    private var input: Tensor?
    private var output: Tensor?
    private var dInput: Tensor?
    public private(set) var forwardFLOPs: Double = 0

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, params: ParameterSet, name: String) {
        self.inFeatures = inFeatures; self.outFeatures = outFeatures; self.params = params
        weightOffset = params.register("\(name).weight", shape: [outFeatures, inFeatures], initializer: .pytorchDefault(fanIn: inFeatures))
        biasOffset = bias ? params.register("\(name).bias", shape: [outFeatures], initializer: .pytorchDefault(fanIn: inFeatures)) : nil
    }

    // x: [N, in] → [N, out]
    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.last == inFeatures && x.count % inFeatures == 0, "Linear: expected [N, \(inFeatures)], got \(x.shape)")
        let N = x.count / inFeatures
        input = x
        let y = reusing(output, shape: Array(x.shape.dropLast()) + [outFeatures]); output = y
        sgemm(transB: true, m: N, n: outFeatures, k: inFeatures, a: x.data, lda: inFeatures,
              b: params.value(weightOffset), ldb: inFeatures, c: y.data, ldc: outFeatures)
        if let bo = biasOffset {
            let b = params.value(bo), O = outFeatures
            parallelFor(N, minimumPerTask: max(1, 16384 / max(1, O))) { n in
                let row = y.data + n * O
                for o in 0..<O { row[o] += b[o] }
            }
        }
        forwardFLOPs = 2 * Double(N) * Double(inFeatures) * Double(outFeatures)
        return y
    }

    // dy: [N, out] → dx: [N, in]
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("Linear.backward before forward") }
        let N = x.count / inFeatures
        // dW[out, in] += dyᵀ[out, N] · x[N, in]
        sgemm(transA: true, m: outFeatures, n: inFeatures, k: N, a: dy.data, lda: outFeatures, b: x.data, ldb: inFeatures,
              beta: 1, c: params.grad(weightOffset), ldc: inFeatures)
        if let bo = biasOffset {
            let db = params.grad(bo), O = outFeatures
            let g = dy.data
            // column blocks in parallel, rows in order within each (the same sums, in the same order, as one loop)
            parallelRanges(O, minimumPerTask: max(1, 65536 / max(1, N))) { lo, hi in
                for n in 0..<N { let row = g + n * O; for o in lo..<hi { db[o] += row[o] } }
            }
        }
        guard computesInputGradient else { return emptyTensor }
        let dx = reusing(dInput, shape: x.shape); dInput = dx
        // dx[N, in] = dy[N, out] · W[out, in]
        sgemm(m: N, n: inFeatures, k: outFeatures, a: dy.data, lda: outFeatures, b: params.value(weightOffset), ldb: inFeatures,
              c: dx.data, ldc: inFeatures)
        return dx
    }
}
