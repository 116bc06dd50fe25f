// Res(h, r): x + conv1×1(r→h)(ReLU(conv3×3 pad 1(h→r)(ReLU(x)))). x, y: [h, B, H, W].
// PyTorch names: "<name>.block.1.*" (3×3 conv), "<name>.block.3.*" (1×1 conv), matching
// `self.block = nn.Sequential(ReLU(), Conv2d(h, r, 3, padding=1), ReLU(), Conv2d(r, h, 1))`.
//
// Fused: the whole block runs per batch slice (`forEachImageSlice`), so its intermediates stay in the
// worker's cache instead of making a dozen full-batch passes (two ReLUs, two biases, the add).
// The 3×3 conv is computed in its transposed form (as Conv2d's `.transposed` strategy):
// with W'[h, r·9] the flipped kernel, z = col2im(W'ᵀ · ReLU(x)) + b₃.
//   forward, per slice:  a = ReLU(x) [h, n];  Z = W'ᵀ a [r·9, n];  z = col2im(Z) + b₃ (kept, [r, B, H, W]);
//                        u = ReLU(z) [r, n];  y = x + W₁ u + b₁.
//   backward, per slice: u = ReLU(z) again;  dW₁ += dy uᵀ;  db₁ += Σ dy;  dz = (W₁ᵀ dy) ⊙ [z > 0];  db₃ += Σ dz;
//                        dcol = im2col(dz) [r·9, n];  a = ReLU(x) again;  dW' += a dcolᵀ;
//                        dx = dy + (W' dcol) ⊙ [x > 0].
// Weight-gradient partials are per slice, added in slice order: the same numbers on any number of
// threads. n ≈ 256 columns.
// Tests: Tests/LayersTests/ResidualBlockTests.swift (finite differences in Double, serial and 3 workers).
import Kernels

public final class ResidualBlock: Layer {
    public let hidden, residual: Int
    public let conv3: Conv2d      // parameters of the 3×3 h→r conv (weight [r, h, 3, 3], bias [r])
    public let conv1: Conv2d      // parameters of the 1×1 r→h conv (weight [h, r, 1, 1], bias [h])
    private var input: Tensor?
    private var z: Tensor?        // pre-activation of the second ReLU: [r, B, H, W]
    private var output: Tensor?
    private var dInput: Tensor?
    private var flipped: Tensor?  // W' [h, r·9]
    private let scratch = SliceScratch(), partials = SliceScratch()
    public private(set) var forwardFLOPs: Double = 0

    public init(hidden: Int, residual: Int, params: ParameterSet, name: String) {
        self.hidden = hidden; self.residual = residual
        conv3 = Conv2d(hidden, residual, kernel: 3, padding: 1, params: params, name: "\(name).block.1")
        conv1 = Conv2d(residual, hidden, kernel: 1, params: params, name: "\(name).block.3")
    }

    /// The geometry of the 3×3 conv's transposed form: image = z [r, B, H, W], columns = x positions.
    func geometry(batch: Int, height: Int, width: Int) -> ConvGeometry {
        ConvGeometry(channels: residual, batch: batch, height: height, width: width, kernelH: 3, kernelW: 3, stride: 1, padding: 1)
    }

    /// Per-worker scratch: a [h, n], Z or dcol [r·9, n], u or dz [r, n].
    func prepareScratch(workers: Int, columns n: Int) -> [UnsafeMutablePointer<Float>] {
        scratch.prepare(buffers: workers, count: (hidden + residual * 9 + residual) * n)
    }

    // x: [h, B, H, W] → y: [h, B, H, W]
    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[0] == hidden, "ResidualBlock: expected [\(hidden), B, H, W], got \(x.shape)")
        input = x
        let h = hidden, r = residual, R = r * 9
        let B = x.shape[1], plane = x.shape[2] * x.shape[3], N = B * plane
        let g = geometry(batch: B, height: x.shape[2], width: x.shape[3])
        let zT = reusing(z, shape: [r, B, x.shape[2], x.shape[3]]); z = zT
        let y = reusing(output, shape: x.shape); output = y
        // W'[ci, co·9 + 8 − i] = W₃[co, ci, i] (the flip of Conv2d's transposed form)
        let w3 = conv3.params.value(conv3.weightOffset)
        let wf = reusing(flipped, shape: [h, R]); flipped = wf
        Conv2d.flip(w3, outChannels: r, inChannels: h, kernelArea: 9, into: wf.data)
        let b3 = conv3.params.value(conv3.biasOffset!), w1 = conv1.params.value(conv1.weightOffset), b1 = conv1.params.value(conv1.biasOffset!)
        let per = imagesPerSlice(batch: B, columnsPerImage: plane)
        let buffers = prepareScratch(workers: sliceWorkers(batch: B, imagesPerSlice: per), columns: per * plane)
        let xd = x.data, zd = zT.data, yd = y.data, wfd = wf.data
        forEachImageSlice(batch: B, imagesPerSlice: per) { images, _, worker in
            let n = images.count * plane, c0 = images.lowerBound * plane
            let a = buffers[worker], zc = a + h * n, u = zc + R * n
            for c in 0..<h { ReLUFunction.forward(xd + c * N + c0, a + c * n, 0, n) }
            sgemmSerial(transA: true, m: R, n: n, k: h, a: wfd, lda: R, b: a, ldb: n, c: zc, ldc: n)
            col2im(zc, g, images: images, ld: n, into: zd, accumulate: false)
            for c in 0..<r {
                let row = zd + c * N + c0, dst = u + c * n, bias = b3[c]
                for i in 0..<n { let v = row[i] + bias; row[i] = v; dst[i] = max(v, 0) }
            }
            sgemmSerial(m: h, n: n, k: r, a: w1, lda: r, b: u, ldb: n, c: yd + c0, ldc: N)
            for c in 0..<h {
                let row = yd + c * N + c0, src = xd + c * N + c0, bias = b1[c]
                for i in 0..<n { row[i] += src[i] + bias }
            }
        }
        forwardFLOPs = 2 * Double(R) * Double(h) * Double(N) + 2 * Double(h) * Double(r) * Double(N)
        return y
    }

    // dy: [h, B, H, W] → dx: [h, B, H, W]
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input, let zT = z, let wf = flipped else { preconditionFailure("ResidualBlock.backward before forward") }
        precondition(dy.shape == x.shape, "ResidualBlock.backward: dy \(dy.shape), x \(x.shape)")
        let h = hidden, r = residual, R = r * 9
        let B = x.shape[1], plane = x.shape[2] * x.shape[3], N = B * plane
        let dx = reusing(dInput, shape: x.shape); dInput = dx
        let w1 = conv1.params.value(conv1.weightOffset)
        let per = imagesPerSlice(batch: B, columnsPerImage: plane)
        let buffers = prepareScratch(workers: sliceWorkers(batch: B, imagesPerSlice: per), columns: per * plane)
        // one partial per slice: dW₁ [h, r], db₁ [h], db₃ [r], dW' [h, R]
        let sizes = (w1: h * r, b1: h, b3: r, wf: h * R)
        let total = sizes.w1 + sizes.b1 + sizes.b3 + sizes.wf
        let sums = partials.prepare(buffers: sliceCount(batch: B, imagesPerSlice: per), count: total)
        let xd = x.data, zd = zT.data, dyd = dy.data, dxd = dx.data, wfd = wf.data
        forEachImageSlice(batch: B, imagesPerSlice: per) { images, slice, worker in
            let n = images.count * plane, c0 = images.lowerBound * plane
            let a = buffers[worker], col = a + h * n, u = col + R * n
            let dW1 = sums[slice], db1 = dW1 + sizes.w1, db3 = db1 + sizes.b1, dWf = db3 + sizes.b3
            for i in 0..<(sizes.b1 + sizes.b3) { db1[i] = 0 }
            // 1×1 conv: u = ReLU(z); dW₁ += dy uᵀ; db₁ += Σ dy
            for c in 0..<r { ReLUFunction.forward(zd + c * N + c0, u + c * n, 0, n) }
            sgemmSerial(transB: true, m: h, n: r, k: n, a: dyd + c0, lda: N, b: u, ldb: n, c: dW1, ldc: r)
            accumulateRowSumsSerial(dyd + c0, rows: h, columns: n, stride: N, into: db1)
            // dz = (W₁ᵀ dy) ⊙ [z > 0] (into u); db₃ += Σ dz
            sgemmSerial(transA: true, m: r, n: n, k: h, a: w1, lda: r, b: dyd + c0, ldb: N, c: u, ldc: n)
            for c in 0..<r { let zr = zd + c * N + c0, d = u + c * n; for i in 0..<n { d[i] = zr[i] > 0 ? d[i] : 0 } }
            accumulateRowSumsSerial(u, rows: r, columns: n, stride: n, into: db3)
            // 3×3 conv (transposed form): dcol = im2col(dz); a = ReLU(x); dW' += a dcolᵀ; da = W' dcol (into a)
            let gs = geometry(batch: images.count, height: x.shape[2], width: x.shape[3])   // the slice's dz as an image
            im2col(u, gs, images: 0..<images.count, into: col, ld: n)
            for c in 0..<h { ReLUFunction.forward(xd + c * N + c0, a + c * n, 0, n) }
            sgemmSerial(transB: true, m: h, n: R, k: n, a: a, lda: n, b: col, ldb: n, c: dWf, ldc: R)
            sgemmSerial(m: h, n: n, k: R, a: wfd, lda: R, b: col, ldb: n, c: a, ldc: n)
            // dx = dy + da ⊙ [x > 0]
            for c in 0..<h {
                let xs = xd + c * N + c0, g = dyd + c * N + c0, da = a + c * n, d = dxd + c * N + c0
                for i in 0..<n { d[i] = g[i] + (xs[i] > 0 ? da[i] : 0) }
            }
        }
        // add the partials in slice order; un-flip dW' into dW₃[co, ci, i] (+=)
        var p = [Float](repeating: 0, count: total)
        p.withUnsafeMutableBufferPointer { sumPartials(sums, count: total, into: $0.baseAddress!) }
        let dw1 = conv1.params.grad(conv1.weightOffset), db1 = conv1.params.grad(conv1.biasOffset!)
        let dw3 = conv3.params.grad(conv3.weightOffset), db3 = conv3.params.grad(conv3.biasOffset!)
        for i in 0..<sizes.w1 { dw1[i] += p[i] }
        for i in 0..<h { db1[i] += p[sizes.w1 + i] }
        for i in 0..<r { db3[i] += p[sizes.w1 + sizes.b1 + i] }
        let f = sizes.w1 + sizes.b1 + sizes.b3
        p.withUnsafeBufferPointer { Conv2d.addUnflipped($0.baseAddress! + f, outChannels: r, inChannels: h, kernelArea: 9, into: dw3) }
        return dx
    }
}
