// Elementwise activations, written once: y = f(x), dx = dy · f'(x). Any layout.
// Each function (ReLU.swift, SiLU.swift, GELU.swift) only says what f and f' are.
import Kernels

public protocol ActivationFunction {
    static func value(_ x: Float) -> Float
    static func derivative(_ x: Float) -> Float
}

public final class Activation<F: ActivationFunction>: Layer {
    private var input: Tensor?
    private var output: Tensor?
    private var dInput: Tensor?
    public init() {}

    public func forward(_ x: Tensor) -> Tensor {
        input = x
        let y = reusing(output, shape: x.shape); output = y
        let src = x.data, dst = y.data
        parallelRanges(x.count, minimumPerTask: 1 << 14) { lo, hi in
            for i in lo..<hi { dst[i] = F.value(src[i]) }
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("\(F.self).backward before forward") }
        let dx = reusing(dInput, shape: x.shape); dInput = dx
        let g = dy.data, src = x.data, d = dx.data
        parallelRanges(x.count, minimumPerTask: 1 << 14) { lo, hi in
            for i in lo..<hi { d[i] = g[i] * F.derivative(src[i]) }
        }
        return dx
    }
}
