// The Layer contract shared by every building block.
// Activations inside the engine use the channel-major layout [C, B, H, W] (see Kernels/Im2col.swift):
// a whole batch goes through one GEMM per conv with no transposes. Encoder/Decoder convert to and
// from NCHW at the model boundary. Linear is the exception: it works on [N, features].
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
public final class Sequential: Layer {
    public let layers: [Layer]
    public init(_ layers: [Layer]) { self.layers = layers }

    public func forward(_ x: Tensor) -> Tensor {
        var h = x
        for layer in layers { h = layer.forward(h) }
        return h
    }

    public func backward(_ dy: Tensor) -> Tensor {
        var g = dy
        for layer in layers.reversed() { g = layer.backward(g) }
        return g
    }

    public var forwardFLOPs: Double { layers.reduce(0) { $0 + $1.forwardFLOPs } }
}

let emptyTensor = Tensor(shape: [0])
