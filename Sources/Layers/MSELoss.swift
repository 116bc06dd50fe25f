// Mean squared error over all elements: L = (1/N) Σ (y − t)²; dL/dy = 2(y − t)/N. Any layout.
import Kernels

public final class MSELoss {
    private var prediction: Tensor?
    private var target: Tensor?
    private var grad: Tensor?
    public init() {}

    public func forward(_ prediction: Tensor, _ target: Tensor) -> Float {
        precondition(prediction.shape == target.shape, "MSELoss: \(prediction.shape) vs \(target.shape)")
        self.prediction = prediction; self.target = target
        let p = prediction.data, t = target.data
        var total = 0.0
        var i = 0
        while i < prediction.count {
            let end = min(prediction.count, i + 4096)
            var part: Float = 0
            for j in i..<end { let d = p[j] - t[j]; part += d * d }
            total += Double(part)
            i = end
        }
        return Float(total / Double(max(prediction.count, 1)))
    }

    /// dL/dy for the last forward, scaled by `scale` (a loss weight). Layer-owned buffer.
    public func backward(scale: Float = 1) -> Tensor {
        guard let p = prediction, let t = target else { preconditionFailure("MSELoss.backward before forward") }
        let g = reusing(grad, shape: p.shape); grad = g
        let k = 2 * scale / Float(max(p.count, 1))
        let pd = p.data, td = t.data, gd = g.data
        parallelRanges(p.count, minimumPerTask: 1 << 15) { lo, hi in
            for i in lo..<hi { gd[i] = k * (pd[i] - td[i]) }
        }
        return g
    }
}
