// Adam / AdamW over a flat parameter buffer, matching torch.optim.Adam/AdamW (non-amsgrad):
//   Adam:  g ← g + λ·p (L2 in the gradient)      AdamW: p ← p·(1 − lr·λ) (decoupled)
//   m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  t ← t+1
//   p ← p − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)
// State (m, v, t) is public so it can be checkpointed (e.g. as safetensors "optimizer.m"/"optimizer.v").
import Kernels

public final class Adam {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var eps: Float
    public var weightDecay: Float
    /// true = AdamW (decoupled weight decay), false = Adam (L2 added to the gradient).
    public let decoupledWeightDecay: Bool
    /// First moment: [count].
    public let m: Tensor
    /// Second moment: [count].
    public let v: Tensor
    /// Number of steps taken (t).
    public var step: Int = 0

    public init(parameterCount: Int, learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                eps: Float = 1e-8, weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2; self.eps = eps
        self.weightDecay = weightDecay; self.decoupledWeightDecay = decoupledWeightDecay
        m = Tensor(shape: [parameterCount]); v = Tensor(shape: [parameterCount])
    }

    /// One update of `values` with `grads` (both [count]). Does not zero the gradients.
    public func update(values: Tensor, grads: Tensor) {
        precondition(values.count == m.count && grads.count == m.count, "Adam: size mismatch")
        step += 1
        let t = Double(step)
        let bc1 = 1 - Double(beta1).power(t), bc2 = 1 - Double(beta2).power(t)
        let stepSize = Float(Double(learningRate) / bc1)
        let bc2Sqrt = Float(bc2.squareRoot())
        let b1 = beta1, b2 = beta2, eps = self.eps, lr = learningRate, wd = weightDecay, decoupled = decoupledWeightDecay
        let p = values.data, g = grads.data, md = m.data, vd = v.data
        parallelRanges(values.count, minimumPerTask: 1 << 14) { lo, hi in
            for i in lo..<hi {
                var gi = g[i]
                if wd != 0 {
                    if decoupled { p[i] *= 1 - lr * wd } else { gi += wd * p[i] }
                }
                let mi = b1 * md[i] + (1 - b1) * gi
                let vi = b2 * vd[i] + (1 - b2) * gi * gi
                md[i] = mi; vd[i] = vi
                p[i] -= stepSize * mi / (vi.squareRoot() / bc2Sqrt + eps)
            }
        }
    }

    public func update(_ params: ParameterSet) { update(values: params.values, grads: params.grads) }
}

extension Double {
    @inline(__always) func power(_ e: Double) -> Double {
        #if canImport(Glibc)
        return Glibc.pow(self, e)
        #else
        return Foundation.pow(self, e)
        #endif
    }
}
#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif

/// Scales `grads` in place so that its global L2 norm is at most `maxNorm` (torch.nn.utils.clip_grad_norm_:
/// factor maxNorm/(norm + 1e-6) when norm > maxNorm). Returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ grads: Tensor, maxNorm: Float) -> Float {
    let norm = Float(sumOfSquares(grads.data, count: grads.count).squareRoot())
    if norm > maxNorm { scaleInPlace(grads.data, by: maxNorm / (norm + 1e-6), count: grads.count) }
    return norm
}
