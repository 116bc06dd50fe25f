// GroupNorm (PyTorch nn.GroupNorm, eps 1e-5): statistics per (sample, group) over the group's
// channels × H × W. x, y: [C, B, H, W] (channel-major). Affine: weight (γ): [C] = 1, bias (β): [C] = 0,
// learned; `affine: false` (PyTorch affine=False) registers no parameters (γ = 1, β = 0 fixed).
import Kernels

public final class GroupNorm: Layer {
    public let groups, channels: Int
    public let eps: Float
    /// nil when not affine.
    public let weightOffset, biasOffset: Int?
    private let fixed: UnsafeMutablePointer<Float>     // [2C]: the fixed γ = 1 then β = 0 (not affine)
    public let params: ParameterSet
    private var input: Tensor?
    private var output: Tensor?
    private var dInput: Tensor?
    private var mean: Tensor?   // [B, G]
    private var rstd: Tensor?   // [B, G]

    public init(groups: Int, channels: Int, eps: Float = 1e-5, affine: Bool = true, params: ParameterSet, name: String) {
        precondition(channels % groups == 0, "GroupNorm: \(channels) channels not divisible by \(groups) groups")
        self.groups = groups; self.channels = channels; self.eps = eps; self.params = params
        weightOffset = affine ? params.register("\(name).weight", shape: [channels], initializer: .ones) : nil
        biasOffset = affine ? params.register("\(name).bias", shape: [channels], initializer: .zeros) : nil
        fixed = .allocate(capacity: 2 * channels)
        fixed.initialize(repeating: 1, count: channels)
        (fixed + channels).initialize(repeating: 0, count: channels)
    }

    deinit { fixed.deallocate() }

    /// γ and β as read by the loops (the fixed 1 and 0 when not affine).
    private func affineParameters() -> (UnsafePointer<Float>, UnsafePointer<Float>) {
        if let w = weightOffset, let b = biasOffset { return (UnsafePointer(params.value(w)), UnsafePointer(params.value(b))) }
        return (UnsafePointer(fixed), UnsafePointer(fixed + channels))
    }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[0] == channels, "GroupNorm: expected [\(channels), B, H, W], got \(x.shape)")
        input = x
        let B = x.shape[1], HW = x.shape[2] * x.shape[3], G = groups, Cg = channels / groups
        let y = reusing(output, shape: x.shape); output = y
        let mu = reusing(mean, shape: [B, G]); mean = mu
        let rs = reusing(rstd, shape: [B, G]); rstd = rs
        let (gamma, beta) = affineParameters()
        let eps = Double(self.eps)
        let xd = x.data, yd = y.data
        parallelFor(B * G) { t in
            let b = t / G, g = t % G
            var s = 0.0, ss = 0.0
            for c in g * Cg..<(g + 1) * Cg {
                let p = xd + (c * B + b) * HW
                var ps: Float = 0, pss: Float = 0
                for i in 0..<HW { ps += p[i]; pss += p[i] * p[i] }
                s += Double(ps); ss += Double(pss)
            }
            let M = Double(Cg * HW)
            let m = s / M
            let variance = max(ss / M - m * m, 0)
            let r = 1 / (variance + eps).squareRoot()
            mu.data[t] = Float(m); rs.data[t] = Float(r)
            for c in g * Cg..<(g + 1) * Cg {
                let p = xd + (c * B + b) * HW, q = yd + (c * B + b) * HW
                let scale = Float(r) * gamma[c], shift = beta[c] - Float(m) * scale
                for i in 0..<HW { q[i] = p[i] * scale + shift }
            }
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input, let mu = mean, let rs = rstd else { preconditionFailure("GroupNorm.backward before forward") }
        let B = x.shape[1], HW = x.shape[2] * x.shape[3], G = groups, Cg = channels / groups
        let dx = reusing(dInput, shape: x.shape); dInput = dx
        let (gamma, _) = affineParameters()
        let xd = x.data, gd = dy.data, dxd = dx.data
        // Parameter gradients: per channel over the whole batch.
        if let w = weightOffset, let bo = biasOffset {
        let dgamma = params.grad(w), dbeta = params.grad(bo)
        parallelFor(channels) { c in
            let g = c / Cg
            var dg = 0.0, db = 0.0
            for b in 0..<B {
                let m = mu.data[b * G + g], r = rs.data[b * G + g]
                let p = xd + (c * B + b) * HW, q = gd + (c * B + b) * HW
                var a: Float = 0, s: Float = 0
                for i in 0..<HW { a += q[i] * (p[i] - m) * r; s += q[i] }
                dg += Double(a); db += Double(s)
            }
            dgamma[c] += Float(dg); dbeta[c] += Float(db)
        }
        }
        // Input gradient: dx = r·(dxhat − mean(dxhat) − xhat·mean(dxhat·xhat)), dxhat = dy·γ.
        parallelFor(B * G) { t in
            let b = t / G, g = t % G
            let m = mu.data[t], r = rs.data[t]
            var s1 = 0.0, s2 = 0.0
            for c in g * Cg..<(g + 1) * Cg {
                let p = xd + (c * B + b) * HW, q = gd + (c * B + b) * HW
                var a: Float = 0, e: Float = 0
                for i in 0..<HW { let dh = q[i] * gamma[c]; a += dh; e += dh * (p[i] - m) * r }
                s1 += Double(a); s2 += Double(e)
            }
            let M = Double(Cg * HW)
            let mean1 = Float(s1 / M), mean2 = Float(s2 / M)
            for c in g * Cg..<(g + 1) * Cg {
                let p = xd + (c * B + b) * HW, q = gd + (c * B + b) * HW, o = dxd + (c * B + b) * HW
                for i in 0..<HW {
                    let xhat = (p[i] - m) * r
                    o[i] = r * (q[i] * gamma[c] - mean1 - xhat * mean2)
                }
            }
        }
        return dx
    }
}
