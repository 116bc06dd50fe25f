// SiLU (swish): y = x·σ(x); dy/dx = σ(x)·(1 + x·(1 − σ(x))).
#if canImport(Glibc)
import Glibc
#endif

public enum SiLUFunction: ActivationFunction {
    @inline(__always) public static func value(_ x: Float) -> Float { x / (1 + expf(-x)) }
    @inline(__always) public static func derivative(_ x: Float) -> Float {
        let s = 1 / (1 + expf(-x))
        return s * (1 + x * (1 - s))
    }
}
public typealias SiLU = Activation<SiLUFunction>
