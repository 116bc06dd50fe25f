// Elementwise activations, written once: y = f(x), dx = dy · f'(x). Any layout.
// Each function (ReLU.swift, SiLU.swift, GELU.swift) only says what f and f' are.
import Kernels

public protocol ActivationFunction {
    static func value(_ x: Float) -> Float
    static func derivative(_ x: Float) -> Float
    /// y[i] = f(x[i]) for i in lo..<hi. A requirement (not only an extension method) so that each
    /// conformance's witness is a loop specialised for its f: `Activation<F>` is compiled generic and
    /// would otherwise call f through the witness table once per element.
    static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ lo: Int, _ hi: Int)
    /// dx[i] = dy[i] · f'(x[i]) for i in lo..<hi.
    static func backward(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ lo: Int, _ hi: Int)
}

extension ActivationFunction {
    @inline(__always)
    public static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ lo: Int, _ hi: Int) {
        for i in lo..<hi { y[i] = value(x[i]) }
    }
    @inline(__always)
    public static func backward(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ lo: Int, _ hi: Int) {
        for i in lo..<hi { dx[i] = dy[i] * derivative(x[i]) }
    }
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
        parallelRanges(x.count, minimumPerTask: 1 << 14) { lo, hi in F.forward(src, dst, lo, hi) }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("\(F.self).backward before forward") }
        let dx = reusing(dInput, shape: x.shape); dInput = dx
        let g = dy.data, src = x.data, d = dx.data
        parallelRanges(x.count, minimumPerTask: 1 << 14) { lo, hi in F.backward(g, src, d, lo, hi) }
        return dx
    }
}
