// The Layer contract shared by every building block.
// Activations inside the engine use the channel-major layout [C, B, H, W] (see Kernels/Im2col.swift):
// a whole batch goes through one GEMM per conv with no transposes. Encoder/Decoder convert to and
// from NCHW at the model boundary. Linear is the exception: it works on [N, features].
import Dispatch
import Kernels

public protocol Layer: AnyObject {
    /// Forward pass. The returned tensor is owned by the layer and reused on the next call with the
    /// same shape; the layer keeps a reference to `x` (or what it needs of it) for `backward`.
    func forward(_ x: Tensor) -> Tensor
    /// Backward pass for the most recent `forward`. Accumulates (+=) into the parameter gradients in the
    /// model's ParameterSet and returns dL/dx (a layer-owned buffer, overwritten on each call).
    /// Layers whose `computesInputGradient` is false skip dL/dx and return an empty tensor.
    func backward(_ dy: Tensor) -> Tensor
    /// Multiply-add FLOPs (2 per MAC) of the most recent forward pass; 0 for cheap elementwise layers.
    var forwardFLOPs: Double { get }
}

extension Layer {
    public var forwardFLOPs: Double { 0 }
}

/// An ordered chain of layers (PyTorch nn.Sequential). Child i is named "<prefix>.<i>".
/// When `LayerProfile.enabled`, it adds each child's forward and backward wall time to
/// `forwardSeconds[i]` / `backwardSeconds[i]` (`tokbench bench train --profile`).
public final class Sequential: Layer {
    public let layers: [Layer]
    public private(set) var forwardSeconds: [Double]
    public private(set) var backwardSeconds: [Double]
    public init(_ layers: [Layer]) {
        self.layers = layers
        forwardSeconds = Array(repeating: 0, count: layers.count)
        backwardSeconds = Array(repeating: 0, count: layers.count)
    }

    public func forward(_ x: Tensor) -> Tensor {
        var h = x
        if LayerProfile.enabled {
            for (i, layer) in layers.enumerated() { let t = LayerProfile.now(); h = layer.forward(h); forwardSeconds[i] += LayerProfile.now() - t }
            return h
        }
        for layer in layers { h = layer.forward(h) }
        return h
    }

    public func backward(_ dy: Tensor) -> Tensor {
        var g = dy
        if LayerProfile.enabled {
            for i in layers.indices.reversed() { let t = LayerProfile.now(); g = layers[i].backward(g); backwardSeconds[i] += LayerProfile.now() - t }
            return g
        }
        for layer in layers.reversed() { g = layer.backward(g) }
        return g
    }

    /// Zeroes the per-child times.
    public func resetProfile() {
        forwardSeconds = Array(repeating: 0, count: layers.count)
        backwardSeconds = Array(repeating: 0, count: layers.count)
    }

    public var forwardFLOPs: Double { layers.reduce(0) { $0 + $1.forwardFLOPs } }
}

let emptyTensor = Tensor(shape: [0])

/// Switch for the per-layer wall times that `Sequential` keeps (off: one branch per call).
public enum LayerProfile {
    nonisolated(unsafe) public static var enabled = false
    /// Seconds since boot when profiling, else 0 (no clock read).
    @inline(__always) public static func now() -> Double { enabled ? Double(DispatchTime.now().uptimeNanoseconds) / 1e9 : 0 }
    /// Seconds since `t` (0 when not profiling), and `t` moved to now.
    @inline(__always) public static func lap(_ t: inout Double) -> Double {
        guard enabled else { return 0 }
        let n = now(), d = n - t
        t = n
        return d
    }
}
