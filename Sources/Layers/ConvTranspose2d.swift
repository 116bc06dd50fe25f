// ConvTranspose2d (PyTorch semantics, no output_padding/dilation): the adjoint of Conv2d.
// x: [Cin, B, H, W] → y: [Cout, B, Ho, Wo], Ho = (H − 1)·s − 2p + kh.
// weight: [Cin, Cout, kh, kw] (PyTorch layout), bias: [Cout]. Init fan_in = Cout·kh·kw (as PyTorch computes it).
// Forward = GEMM Wᵀ·x into columns, then col2im; backward = im2col(dy), then two GEMMs; each per batch
// slice (Kernels/SlicedConv.swift), so the columns never go through memory at full-batch size.
import Kernels

public final class ConvTranspose2d: Layer {
    public let inChannels, outChannels, kernelH, kernelW, stride, padding: Int
    public let weightOffset: Int
    public let biasOffset: Int?
    public let params: ParameterSet
    public var computesInputGradient = true

    private var input: Tensor?
    private let scratch = SliceScratch()    // per-worker column buffers of a batch slice [Cout·kh·kw, ≈256]
    private let partials = SliceScratch()   // per-worker dW partials
    private var output: Tensor?
    private var dInput: Tensor?
    private var geometry: ConvGeometry?   // the geometry of the adjoint conv: image = y, columns = x positions
    public private(set) var forwardFLOPs: Double = 0

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, kernelW: Int? = nil, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, params: ParameterSet, name: String) {
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernelH = kernel; self.kernelW = kernelW ?? kernel
        self.stride = stride; self.padding = padding; self.params = params
        let fanIn = outChannels * kernel * (kernelW ?? kernel)
        weightOffset = params.register("\(name).weight", shape: [inChannels, outChannels, kernel, kernelW ?? kernel],
                                       initializer: .pytorchDefault(fanIn: fanIn))
        biasOffset = bias ? params.register("\(name).bias", shape: [outChannels], initializer: .pytorchDefault(fanIn: fanIn)) : nil
    }

    public func outputSize(height: Int, width: Int) -> (Int, Int) {
        ((height - 1) * stride - 2 * padding + kernelH, (width - 1) * stride - 2 * padding + kernelW)
    }

    // x: [Cin, B, H, W] → [Cout, B, Ho, Wo]
    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[0] == inChannels, "ConvTranspose2d: expected [\(inChannels), B, H, W], got \(x.shape)")
        let B = x.shape[1], H = x.shape[2], W = x.shape[3]
        let (Ho, Wo) = outputSize(height: H, width: W)
        precondition(Ho > 0 && Wo > 0, "ConvTranspose2d: empty output for \(x.shape)")
        let g = ConvGeometry(channels: outChannels, batch: B, height: Ho, width: Wo,
                             kernelH: kernelH, kernelW: kernelW, stride: stride, padding: padding)
        precondition(g.outHeight == H && g.outWidth == W)
        geometry = g; input = x
        let N = B * H * W, K = g.rows
        let y = reusing(output, shape: [outChannels, B, Ho, Wo]); output = y
        // y = col2im(Wᵀ[K, Cin] · x[Cin, N]) + bias, per batch slice
        transposedForwardSliced(a: params.value(weightOffset), inChannels: inChannels, x: x.data, g,
                                bias: biasOffset.map { params.value($0) }, scratch: scratch, into: y.data)
        forwardFLOPs = 2 * Double(K) * Double(inChannels) * Double(N)
        return y
    }

    // dy: [Cout, B, Ho, Wo] → dx: [Cin, B, H, W]
    public func backward(_ dy: Tensor) -> Tensor {
        guard let g = geometry, let x = input else { preconditionFailure("ConvTranspose2d.backward before forward") }
        precondition(dy.count == outChannels * g.batch * g.height * g.width, "ConvTranspose2d.backward: dy \(dy.shape)")
        if let bo = biasOffset {
            accumulateRowSums(dy.data, rows: outChannels, columns: g.batch * g.height * g.width, into: params.grad(bo))
        }
        // dcol = im2col(dy) [K, N] per batch slice; dW[Cin, K] += x[Cin, N] · dcolᵀ; dx[Cin, N] = W[Cin, K] · dcol
        let dx = computesInputGradient ? reusing(dInput, shape: x.shape) : nil
        if let dx { dInput = dx }
        transposedBackwardSliced(a: params.value(weightOffset), inChannels: inChannels, x: x.data, dy: dy.data, g,
                                 gradA: params.grad(weightOffset), dx: dx?.data, scratch: scratch, partials: partials)
        return dx ?? emptyTensor
    }
}
