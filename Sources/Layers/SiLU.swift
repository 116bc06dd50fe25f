// SiLU (swish): y = x·σ(x); dy/dx = σ(x)·(1 + x·(1 − σ(x))). Any layout.
import Kernels
#if canImport(Glibc)
import Glibc
#endif

public final class SiLU: Layer {
    private var input: Tensor?
    private var output: Tensor?
    private var dInput: Tensor?
    public init() {}

    public func forward(_ x: Tensor) -> Tensor {
        input = x
        let y = reusing(output, shape: x.shape); output = y
        let src = x.data, dst = y.data
        parallelRanges(x.count, minimumPerTask: 1 << 13) { lo, hi in
            for i in lo..<hi { let v = src[i]; dst[i] = v / (1 + expf(-v)) }
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("SiLU.backward before forward") }
        let dx = reusing(dInput, shape: x.shape); dInput = dx
        let g = dy.data, src = x.data, d = dx.data
        parallelRanges(x.count, minimumPerTask: 1 << 13) { lo, hi in
            for i in lo..<hi {
                let v = src[i], s = 1 / (1 + expf(-v))
                d[i] = g[i] * s * (1 + v * (1 - s))
            }
        }
        return dx
    }
}
