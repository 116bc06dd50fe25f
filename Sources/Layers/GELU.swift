// GELU, exact erf form (PyTorch's default, approximate='none'): y = x·Φ(x) = ½x(1 + erf(x/√2));
// dy/dx = Φ(x) + x·φ(x), φ(x) = exp(−x²/2)/√(2π).
#if canImport(Glibc)
import Glibc
#endif

public enum GELUFunction: ActivationFunction {
    @inline(__always) public static func value(_ x: Float) -> Float { 0.5 * x * (1 + erff(x * 0.70710678118654752)) }
    @inline(__always) public static func derivative(_ x: Float) -> Float {
        let cdf = 0.5 * (1 + erff(x * 0.70710678118654752))
        let pdf = expf(-0.5 * x * x) * 0.39894228040143268
        return cdf + x * pdf
    }
}
public typealias GELU = Activation<GELUFunction>
