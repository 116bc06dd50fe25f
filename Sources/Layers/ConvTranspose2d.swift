// ConvTranspose2d (PyTorch semantics, no output_padding/dilation): the adjoint of Conv2d.
// x: [Cin, B, H, W] → y: [Cout, B, Ho, Wo], Ho = (H − 1)·s − 2p + kh.
// weight: [Cin, Cout, kh, kw] (PyTorch layout), bias: [Cout]. Init fan_in = Cout·kh·kw (as PyTorch computes it).
// Forward = GEMM Wᵀ·x into columns, then col2im; backward = im2col(dy), then two GEMMs.
import Kernels

public final class ConvTranspose2d: Layer {
    public let inChannels, outChannels, kernelH, kernelW, stride, padding: Int
    public let weightOffset: Int
    public let biasOffset: Int?
    public let params: ParameterSet
    public var computesInputGradient = true

    private var input: Tensor?
    private var col: Tensor?        // [Cout·kh·kw, B·H·W]
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
        let c = reusing(col, shape: [K, N]); col = c
        // col[Cout·kh·kw, N] = Wᵀ[K, Cin] · x[Cin, N]
        sgemm(transA: true, m: K, n: N, k: inChannels, a: params.value(weightOffset), lda: K, b: x.data, ldb: N,
              c: c.data, ldc: N)
        let y = reusing(output, shape: [outChannels, B, Ho, Wo]); output = y
        col2im(c.data, g, into: y.data, accumulate: false)
        if let bo = biasOffset { addRowBias(y.data, rows: outChannels, columns: B * Ho * Wo, bias: params.value(bo)) }
        forwardFLOPs = 2 * Double(K) * Double(inChannels) * Double(N)
        return y
    }

    // dy: [Cout, B, Ho, Wo] → dx: [Cin, B, H, W]
    public func backward(_ dy: Tensor) -> Tensor {
        guard let g = geometry, let x = input, let dcol = col else { preconditionFailure("ConvTranspose2d.backward before forward") }
        let N = g.columns, K = g.rows
        precondition(dy.count == outChannels * g.batch * g.height * g.width, "ConvTranspose2d.backward: dy \(dy.shape)")
        if let bo = biasOffset {
            accumulateRowSums(dy.data, rows: outChannels, columns: g.batch * g.height * g.width, into: params.grad(bo))
        }
        im2col(dy.data, g, into: dcol.data)
        // dW[Cin, K] += x[Cin, N] · dcolᵀ[N, K]
        sgemm(transB: true, m: inChannels, n: K, k: N, a: x.data, lda: N, b: dcol.data, ldb: N,
              beta: 1, c: params.grad(weightOffset), ldc: K)
        guard computesInputGradient else { return emptyTensor }
        let dx = reusing(dInput, shape: x.shape); dInput = dx
        // dx[Cin, N] = W[Cin, K] · dcol[K, N]
        sgemm(m: inChannels, n: N, k: K, a: params.value(weightOffset), lda: K, b: dcol.data, ldb: N, c: dx.data, ldc: N)
        return dx
    }
}
