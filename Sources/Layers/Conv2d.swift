// Conv2d (PyTorch semantics, cross-correlation) over the whole batch with one GEMM.
// x: [Cin, B, H, W] → y: [Cout, B, Ho, Wo], Ho = (H + 2p − kh)/s + 1.
// weight: [Cout, Cin, kh, kw], bias: [Cout] (PyTorch layout, so state_dicts interchange).
//
// Three strategies, chosen from the shape (all exact; tests cover each):
// - pointwise (1×1, stride 1, no padding): y = W · x, no column matrix at all.
// - im2col: col = im2col(x) [Cin·k·k, B·Ho·Wo], y = W · col. Backward: dW += dy · colᵀ,
//   dx = col2im(Wᵀ · dy). Run per batch slice (Kernels/SlicedConv.swift): a slice's columns stay in
//   cache, and backward recomputes them instead of keeping the full matrix from the forward pass.
// - transposed (stride 1, square odd kernel, "same" padding 2p = k − 1, Cout < Cin — e.g. the residual
//   3×3 h→r conv): the conv is run as a transposed conv with the flipped kernel
//   W'[ci, co, i, j] = W[co, ci, k−1−i, k−1−j]: Z = W'ᵀ · x [Cout·k·k, N], y = col2im(Z).
//   Backward: dcol = im2col(dy) [Cout·k·k, N], dW' = x · dcolᵀ, dx = W' · dcol. Its column matrices
//   have Cout·k·k rows instead of Cin·k·k, so much less memory traffic when Cout < Cin.
import Kernels

public final class Conv2d: Layer {
    public let inChannels, outChannels, kernelH, kernelW, stride, padding: Int
    public let weightOffset: Int
    public let biasOffset: Int?
    public let params: ParameterSet
    /// Skip dL/dx (e.g. the first layer on images). Weight/bias gradients are still computed.
    /// When false, `backward` returns an empty tensor, so only set it on a network's first layer.
    public var computesInputGradient = true

    enum Strategy { case pointwise, im2col, transposed }
    let strategy: Strategy

    private var input: Tensor?
    private var output: Tensor?
    private var dInput: Tensor?
    private var geometry: ConvGeometry?
    private var flippedWeight: Tensor?  // transposed: W' [Cin, Cout·k·k]
    private var flippedGrad: Tensor?    // transposed: dW' [Cin, Cout·k·k]
    private let scratch = SliceScratch()    // per-worker column buffers of a batch slice
    private let partials = SliceScratch()   // transposed: per-worker dW' partials
    public private(set) var forwardFLOPs: Double = 0

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, kernelW: Int? = nil, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, params: ParameterSet, name: String) {
        let kw = kernelW ?? kernel
        precondition(inChannels > 0 && outChannels > 0 && kernel > 0 && kw > 0 && stride > 0 && padding >= 0)
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernelH = kernel; self.kernelW = kw
        self.stride = stride; self.padding = padding; self.params = params
        if kernel == 1 && kw == 1 && stride == 1 && padding == 0 {
            strategy = .pointwise
        } else if stride == 1 && kernel == kw && 2 * padding == kernel - 1 && outChannels < inChannels {
            strategy = .transposed
        } else {
            strategy = .im2col
        }
        let fanIn = inChannels * kernel * kw
        weightOffset = params.register("\(name).weight", shape: [outChannels, inChannels, kernel, kw],
                                       initializer: .pytorchDefault(fanIn: fanIn))
        biasOffset = bias ? params.register("\(name).bias", shape: [outChannels], initializer: .pytorchDefault(fanIn: fanIn)) : nil
    }

    public func outputSize(height: Int, width: Int) -> (Int, Int) {
        ((height + 2 * padding - kernelH) / stride + 1, (width + 2 * padding - kernelW) / stride + 1)
    }

    // x: [Cin, B, H, W] → [Cout, B, Ho, Wo]
    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[0] == inChannels, "Conv2d: expected [\(inChannels), B, H, W], got \(x.shape)")
        let g = ConvGeometry(channels: inChannels, batch: x.shape[1], height: x.shape[2], width: x.shape[3],
                             kernelH: kernelH, kernelW: kernelW, stride: stride, padding: padding)
        geometry = g
        input = x
        let N = g.columns, K = g.rows
        let y = reusing(output, shape: [outChannels, g.batch, g.outHeight, g.outWidth]); output = y
        let w = params.value(weightOffset)
        let bias = biasOffset.map { params.value($0) }
        switch strategy {
        case .pointwise:
            sgemm(m: outChannels, n: N, k: K, a: w, lda: K, b: x.data, ldb: N, c: y.data, ldc: N)
            if let bias { addRowBias(y.data, rows: outChannels, columns: N, bias: bias) }
        case .im2col:
            convForwardSliced(weight: w, outChannels: outChannels, bias: bias, x: x.data, g, scratch: scratch, into: y.data)
        case .transposed:
            let kk = kernelH * kernelW, rows = outChannels * kk
            let wf = reusing(flippedWeight, shape: [inChannels, rows]); flippedWeight = wf
            Conv2d.flip(w, outChannels: outChannels, inChannels: inChannels, kernelArea: kk, into: wf.data)
            // y = col2im(W'ᵀ · x): Z[Cout·k·k, N] per batch slice (each output gathers its k·k shifted terms)
            transposedForwardSliced(a: wf.data, inChannels: inChannels, x: x.data, transposedGeometry(g), bias: bias,
                                    scratch: scratch, into: y.data)
        }
        forwardFLOPs = 2 * Double(outChannels) * Double(K) * Double(N)
        return y
    }

    /// Geometry of the adjoint view used by `.transposed`: image = y [Cout, B, Ho, Wo] (Ho = H),
    /// kernel k, stride 1, padding k−1−p; its columns are the input positions.
    private func transposedGeometry(_ g: ConvGeometry) -> ConvGeometry {
        ConvGeometry(channels: outChannels, batch: g.batch, height: g.outHeight, width: g.outWidth,
                     kernelH: kernelH, kernelW: kernelW, stride: 1, padding: kernelH - 1 - padding)
    }

    // dy: [Cout, B, Ho, Wo] → dx: [Cin, B, H, W]
    public func backward(_ dy: Tensor) -> Tensor {
        guard let g = geometry, let x = input else { preconditionFailure("Conv2d.backward before forward") }
        let N = g.columns, K = g.rows
        precondition(dy.count == outChannels * N, "Conv2d.backward: dy \(dy.shape)")
        let w = params.value(weightOffset), dw = params.grad(weightOffset)
        if let bo = biasOffset { accumulateRowSums(dy.data, rows: outChannels, columns: N, into: params.grad(bo)) }
        switch strategy {
        case .pointwise:
            // dW[Cout, Cin] += dy[Cout, N] · xᵀ[N, Cin]
            sgemm(transB: true, m: outChannels, n: K, k: N, a: dy.data, lda: N, b: x.data, ldb: N, beta: 1, c: dw, ldc: K)
            guard computesInputGradient else { return emptyTensor }
            let dx = reusing(dInput, shape: x.shape); dInput = dx
            // dx[Cin, N] = Wᵀ[Cin, Cout] · dy[Cout, N]
            sgemm(transA: true, m: K, n: N, k: outChannels, a: w, lda: K, b: dy.data, ldb: N, c: dx.data, ldc: N)
            return dx
        case .im2col:
            // per batch slice: col = im2col(x); dW[Cout, K] += dy · colᵀ; dx = col2im(Wᵀ · dy)
            let dx = computesInputGradient ? reusing(dInput, shape: x.shape) : nil
            if let dx { dInput = dx }
            convBackwardSliced(weight: w, outChannels: outChannels, x: x.data, dy: dy.data, g, gradW: dw, dx: dx?.data,
                               scratch: scratch, partials: partials)
            return dx ?? emptyTensor
        case .transposed:
            let kk = kernelH * kernelW, rows = outChannels * kk
            let wf = flippedWeight!
            // dcol = im2col(dy) [Cout·k·k, N] per slice; dW'[Cin, Cout·k·k] = x · dcolᵀ; dx[Cin, N] = W' · dcol
            let dwf = reusing(flippedGrad, shape: [inChannels, rows]); flippedGrad = dwf
            for i in 0..<dwf.count { dwf.data[i] = 0 }
            let dx = computesInputGradient ? reusing(dInput, shape: x.shape) : nil
            if let dx { dInput = dx }
            transposedBackwardSliced(a: wf.data, inChannels: inChannels, x: x.data, dy: dy.data, transposedGeometry(g),
                                     gradA: dwf.data, dx: dx?.data, scratch: scratch, partials: partials)
            Conv2d.addUnflipped(dwf.data, outChannels: outChannels, inChannels: inChannels, kernelArea: kk, into: dw)
            return dx ?? emptyTensor
        }
    }

    /// The transposed form's flipped kernel: W'[ci, co·kk + kk − 1 − i] = W[co, ci, i]
    /// (w: [Cout, Cin, kh, kw] → wf: [Cin, Cout·kk]). Also used by the fused ResidualBlock.
    static func flip(_ w: UnsafePointer<Float>, outChannels: Int, inChannels: Int, kernelArea kk: Int, into wf: UnsafeMutablePointer<Float>) {
        for co in 0..<outChannels {
            for ci in 0..<inChannels {
                let src = w + (co * inChannels + ci) * kk, dst = wf + (ci * outChannels + co) * kk
                for i in 0..<kk { dst[kk - 1 - i] = src[i] }
            }
        }
    }

    /// The inverse of `flip`, accumulated: dW[co, ci, i] += dW'[ci, co·kk + kk − 1 − i].
    static func addUnflipped(_ dwf: UnsafePointer<Float>, outChannels: Int, inChannels: Int, kernelArea kk: Int, into dw: UnsafeMutablePointer<Float>) {
        for co in 0..<outChannels {
            for ci in 0..<inChannels {
                let src = dwf + (ci * outChannels + co) * kk, dst = dw + (co * inChannels + ci) * kk
                for i in 0..<kk { dst[i] += src[kk - 1 - i] }
            }
        }
    }
}
