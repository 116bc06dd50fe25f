// ReLU: y = max(x, 0); dy/dx = [x > 0].
public enum ReLUFunction: ActivationFunction {
    @inline(__always) public static func value(_ x: Float) -> Float { max(x, 0) }
    @inline(__always) public static func derivative(_ x: Float) -> Float { x > 0 ? 1 : 0 }
}
public typealias ReLU = Activation<ReLUFunction>
