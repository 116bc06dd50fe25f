// ReLU: y = max(x, 0); dx = dy · [y > 0]. Any layout.
import Kernels

public final class ReLU: Layer {
    private var output: Tensor?
    private var dInput: Tensor?
    public init() {}

    public func forward(_ x: Tensor) -> Tensor {
        let y = reusing(output, shape: x.shape); output = y
        let src = x.data, dst = y.data
        parallelRanges(x.count, minimumPerTask: 1 << 15) { lo, hi in
            for i in lo..<hi { dst[i] = max(src[i], 0) }
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let y = output else { preconditionFailure("ReLU.backward before forward") }
        let dx = reusing(dInput, shape: y.shape); dInput = dx
        let g = dy.data, o = y.data, d = dx.data
        parallelRanges(y.count, minimumPerTask: 1 << 15) { lo, hi in
            for i in lo..<hi { d[i] = o[i] > 0 ? g[i] : 0 }
        }
        return dx
    }
}
