// GELU, exact erf form (PyTorch's default, approximate='none'): y = x·Φ(x) = ½x(1 + erf(x/√2));
// dy/dx = Φ(x) + x·φ(x), φ(x) = exp(−x²/2)/√(2π). Any layout.
import Kernels
#if canImport(Glibc)
import Glibc
#endif

public final class GELU: Layer {
    private var input: Tensor?
    private var output: Tensor?
    private var dInput: Tensor?
    public init() {}

    public func forward(_ x: Tensor) -> Tensor {
        input = x
        let y = reusing(output, shape: x.shape); output = y
        let src = x.data, dst = y.data
        parallelRanges(x.count, minimumPerTask: 1 << 13) { lo, hi in
            for i in lo..<hi { let v = src[i]; dst[i] = 0.5 * v * (1 + erff(v * 0.70710678118654752)) }
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("GELU.backward before forward") }
        let dx = reusing(dInput, shape: x.shape); dInput = dx
        let g = dy.data, src = x.data, d = dx.data
        parallelRanges(x.count, minimumPerTask: 1 << 13) { lo, hi in
            for i in lo..<hi {
                let v = src[i]
                let cdf = 0.5 * (1 + erff(v * 0.70710678118654752))
                let pdf = expf(-0.5 * v * v) * 0.39894228040143268
                d[i] = g[i] * (cdf + v * pdf)
            }
        }
        return dx
    }
}
