// ReLU: y = max(x, 0); dy/dx = [x > 0].
public enum ReLUFunction: ActivationFunction {
    @inline(__always) public static func value(_ x: Float) -> Float { max(x, 0) }
    @inline(__always) public static func derivative(_ x: Float) -> Float { x > 0 ? 1 : 0 }
    public static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ lo: Int, _ hi: Int) {
        for i in lo..<hi { y[i] = max(x[i], 0) }
    }
    public static func backward(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ lo: Int, _ hi: Int) {
        for i in lo..<hi { dx[i] = x[i] > 0 ? dy[i] : 0 }
    }
}
public typealias ReLU = Activation<ReLUFunction>
