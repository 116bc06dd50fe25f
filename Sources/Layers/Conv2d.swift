// Conv2d (PyTorch semantics, cross-correlation) via batched im2col + one sgemm.
// x: [Cin, B, H, W] → y: [Cout, B, Ho, Wo], Ho = (H + 2p − kh)/s + 1.
// weight: [Cout, Cin, kh, kw], bias: [Cout] (PyTorch layout, so state_dicts interchange).
import Kernels

public final class Conv2d: Layer {
    public let inChannels, outChannels, kernelH, kernelW, stride, padding: Int
    public let weightOffset: Int
    public let biasOffset: Int?
    public let params: ParameterSet
    /// Skip dL/dx (e.g. the first layer on images). Weight/bias gradients are still computed.
    public var computesInputGradient = true

    private var input: Tensor?
    private var col: Tensor?        // [Cin·kh·kw, B·Ho·Wo]; unused for 1×1/stride 1/pad 0
    private var output: Tensor?
    private var dInput: Tensor?
    private var geometry: ConvGeometry?
    private var dyColumns: Tensor?      // im2col(dy) when the forward col buffer is too small
    private var flippedWeight: Tensor?   // [Cin, Cout·k·k], for the transposed-conv input-gradient path
    public private(set) var forwardFLOPs: Double = 0

    private var isPointwise: Bool { kernelH == 1 && kernelW == 1 && stride == 1 && padding == 0 }
    private var usesFlippedInputGradient: Bool {
        !isPointwise && stride == 1 && kernelH == kernelW && padding <= kernelH - 1 && outChannels < inChannels
    }

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, kernelW: Int? = nil, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, params: ParameterSet, name: String) {
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernelH = kernel; self.kernelW = kernelW ?? kernel
        self.stride = stride; self.padding = padding; self.params = params
        let fanIn = inChannels * kernel * (kernelW ?? kernel)
        weightOffset = params.register("\(name).weight", shape: [outChannels, inChannels, kernel, kernelW ?? kernel],
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
        let colPtr: UnsafePointer<Float>
        if isPointwise {
            colPtr = UnsafePointer(x.data)
        } else {
            let c = reusing(col, shape: [K, N]); col = c
            im2col(x.data, g, into: c.data)
            colPtr = UnsafePointer(c.data)
        }
        sgemm(m: outChannels, n: N, k: K, a: params.value(weightOffset), lda: K, b: colPtr, ldb: N, c: y.data, ldc: N)
        if let bo = biasOffset { addRowBias(y.data, rows: outChannels, columns: N, bias: params.value(bo)) }
        forwardFLOPs = 2 * Double(outChannels) * Double(K) * Double(N)
        return y
    }

    // dy: [Cout, B, Ho, Wo] → dx: [Cin, B, H, W]
    public func backward(_ dy: Tensor) -> Tensor {
        guard let g = geometry, let x = input else { preconditionFailure("Conv2d.backward before forward") }
        let N = g.columns, K = g.rows
        precondition(dy.count == outChannels * N, "Conv2d.backward: dy \(dy.shape)")
        let colPtr: UnsafeMutablePointer<Float> = isPointwise ? x.data : col!.data
        // dW[Cout, K] += dy[Cout, N] · colᵀ[N, K]
        sgemm(transB: true, m: outChannels, n: K, k: N, a: dy.data, lda: N, b: colPtr, ldb: N,
              beta: 1, c: params.grad(weightOffset), ldc: K)
        if let bo = biasOffset { accumulateRowSums(dy.data, rows: outChannels, columns: N, into: params.grad(bo)) }
        guard computesInputGradient else { return emptyTensor }
        let dx = reusing(dInput, shape: [inChannels, g.batch, g.height, g.width]); dInput = dx
        if usesFlippedInputGradient {
            // Stride-1 square kernel with Cout < Cin: dx = correlation of dy with the flipped kernel,
            // dx[Cin, N] = W'[Cin, Cout·k·k] · im2col(dy, pad k−1−p), W'[ci, co, i, j] = W[co, ci, k−1−i, k−1−j].
            // Its column matrix has Cout·k·k rows instead of Cin·k·k (less memory traffic than dcol + col2im).
            let kk = kernelH * kernelW
            let wf = reusing(flippedWeight, shape: [inChannels, outChannels * kk]); flippedWeight = wf
            let w = params.value(weightOffset)
            for co in 0..<outChannels {
                for ci in 0..<inChannels {
                    let src = w + (co * inChannels + ci) * kk, dst = wf.data + (ci * outChannels + co) * kk
                    for i in 0..<kk { dst[kk - 1 - i] = src[i] }
                }
            }
            let gd = ConvGeometry(channels: outChannels, batch: g.batch, height: g.outHeight, width: g.outWidth,
                                  kernelH: kernelH, kernelW: kernelW, stride: 1, padding: kernelH - 1 - padding)
            let nIn = g.batch * g.height * g.width
            precondition(gd.columns == nIn)
            // Reuse the forward columns (already consumed by dW) when large enough; else a dedicated buffer.
            let dycol: UnsafeMutablePointer<Float>
            if outChannels * kk * nIn <= col!.count {
                dycol = col!.data
            } else {
                let t = reusing(dyColumns, shape: [outChannels * kk, nIn]); dyColumns = t
                dycol = t.data
            }
            im2col(dy.data, gd, into: dycol)
            sgemm(m: inChannels, n: nIn, k: outChannels * kk, a: wf.data, lda: outChannels * kk, b: dycol, ldb: nIn,
                  c: dx.data, ldc: nIn)
        } else if isPointwise {
            // dx[Cin, N] = Wᵀ[Cin, Cout] · dy[Cout, N]
            sgemm(transA: true, m: K, n: N, k: outChannels, a: params.value(weightOffset), lda: K, b: dy.data, ldb: N,
                  c: dx.data, ldc: N)
        } else {
            // dcol[K, N] = Wᵀ · dy, reusing the col buffer (its forward contents were consumed by dW above).
            let dcol = col!
            sgemm(transA: true, m: K, n: N, k: outChannels, a: params.value(weightOffset), lda: K, b: dy.data, ldb: N,
                  c: dcol.data, ldc: N)
            col2im(dcol.data, g, into: dx.data, accumulate: false)
        }
        return dx
    }
}
