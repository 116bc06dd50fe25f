// LayerNorm (PyTorch nn.LayerNorm over the last dimension, eps 1e-5, affine).
// x, y: [M, C] (any leading shape, features last). weight (γ): [C] = 1, bias (β): [C] = 0.
//   x̂ = (x − μ)·r, r = 1/√(σ² + ε);  y = γ·x̂ + β
//   dx = r·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)),  dx̂ = dy·γ;  dγ += Σ dy·x̂;  dβ += Σ dy
import Kernels

public final class LayerNorm: Layer {
    public let features: Int
    public let eps: Float
    public let weightOffset, biasOffset: Int
    public let params: ParameterSet
    private var normalized: Tensor?    // x̂ [M, C]
    private var rstd: [Float] = []     // [M]
    private var output: Tensor?
    private var dInput: Tensor?

    public init(_ features: Int, eps: Float = 1e-5, params: ParameterSet, name: String) {
        self.features = features; self.eps = eps; self.params = params
        weightOffset = params.register("\(name).weight", shape: [features], initializer: .ones)
        biasOffset = params.register("\(name).bias", shape: [features], initializer: .zeros)
    }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.last == features, "LayerNorm: expected [..., \(features)], got \(x.shape)")
        let C = features, M = x.count / C
        let xh = reusing(normalized, shape: x.shape); normalized = xh
        let y = reusing(output, shape: x.shape); output = y
        if rstd.count != M { rstd = [Float](repeating: 0, count: M) }
        let gamma = params.value(weightOffset), beta = params.value(biasOffset), eps = Double(self.eps)
        let xd = x.data, hd = xh.data, yd = y.data
        rstd.withUnsafeMutableBufferPointer { rb in
            let r = rb.baseAddress!
            parallelFor(M, minimumPerTask: max(1, 4096 / C)) { m in
                let row = xd + m * C
                var s = 0.0
                for c in 0..<C { s += Double(row[c]) }
                let mu = s / Double(C)
                var v = 0.0
                for c in 0..<C { let t = Double(row[c]) - mu; v += t * t }
                let rs = 1 / (v / Double(C) + eps).squareRoot()
                r[m] = Float(rs)
                for c in 0..<C {
                    let h = Float((Double(row[c]) - mu) * rs)
                    hd[m * C + c] = h
                    yd[m * C + c] = gamma[c] * h + beta[c]
                }
            }
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let xh = normalized else { preconditionFailure("LayerNorm.backward before forward") }
        let C = features, M = xh.count / C
        let dx = reusing(dInput, shape: xh.shape); dInput = dx
        let gamma = params.value(weightOffset), dgamma = params.grad(weightOffset), dbeta = params.grad(biasOffset)
        for m in 0..<M { for c in 0..<C { let g = dy.data[m * C + c]; dgamma[c] += g * xh.data[m * C + c]; dbeta[c] += g } }
        let hd = xh.data, gd = dy.data, out = dx.data
        rstd.withUnsafeBufferPointer { rb in
            let r = rb.baseAddress!
            parallelFor(M, minimumPerTask: max(1, 4096 / C)) { m in
                var a = 0.0, b = 0.0
                for c in 0..<C { let d = Double(gd[m * C + c] * gamma[c]); a += d; b += d * Double(hd[m * C + c]) }
                a /= Double(C); b /= Double(C)
                for c in 0..<C {
                    let d = Double(gd[m * C + c] * gamma[c])
                    out[m * C + c] = Float(Double(r[m]) * (d - a - Double(hd[m * C + c]) * b))
                }
            }
        }
        return dx
    }
}
