// Double-precision naive reference forwards (channel-major [C, B, H, W] like the engine) and a
// central-finite-difference gradient checker. The layers' Float backward passes are compared with
// finite differences of these references; the references themselves are pinned to the layers' forward.
import XCTest
@testable import Kernels
@testable import Layers
import Backbones

enum Ref {
    // x: [C, B, H, W], w: [O, C, kh, kw], b: [O] → [O, B, Ho, Wo]
    static func conv2d(_ x: [Double], C: Int, B: Int, H: Int, W: Int, _ w: [Double], _ b: [Double]?, O: Int,
                       kh: Int, kw: Int, s: Int, p: Int) -> [Double] {
        let Ho = (H + 2 * p - kh) / s + 1, Wo = (W + 2 * p - kw) / s + 1
        var y = [Double](repeating: 0, count: O * B * Ho * Wo)
        for o in 0..<O { for bb in 0..<B { for oy in 0..<Ho { for ox in 0..<Wo {
            var acc = b?[o] ?? 0
            for c in 0..<C { for i in 0..<kh { for j in 0..<kw {
                let iy = oy * s - p + i, ix = ox * s - p + j
                if iy < 0 || iy >= H || ix < 0 || ix >= W { continue }
                acc += x[((c * B + bb) * H + iy) * W + ix] * w[((o * C + c) * kh + i) * kw + j]
            } } }
            y[((o * B + bb) * Ho + oy) * Wo + ox] = acc
        } } } }
        return y
    }

    // PyTorch ConvTranspose2d: x: [Ci, B, H, W], w: [Ci, Co, kh, kw] → [Co, B, (H−1)s−2p+kh, …]
    static func convTranspose2d(_ x: [Double], C: Int, B: Int, H: Int, W: Int, _ w: [Double], _ b: [Double]?, O: Int,
                                kh: Int, kw: Int, s: Int, p: Int) -> [Double] {
        let Ho = (H - 1) * s - 2 * p + kh, Wo = (W - 1) * s - 2 * p + kw
        var y = [Double](repeating: 0, count: O * B * Ho * Wo)
        for o in 0..<O { for bb in 0..<B { for i in 0..<(Ho * Wo) { y[(o * B + bb) * Ho * Wo + i] = b?[o] ?? 0 } } }
        for c in 0..<C { for bb in 0..<B { for iy in 0..<H { for ix in 0..<W {
            let xv = x[((c * B + bb) * H + iy) * W + ix]
            for o in 0..<O { for i in 0..<kh { for j in 0..<kw {
                let oy = iy * s - p + i, ox = ix * s - p + j
                if oy < 0 || oy >= Ho || ox < 0 || ox >= Wo { continue }
                y[((o * B + bb) * Ho + oy) * Wo + ox] += xv * w[((c * O + o) * kh + i) * kw + j]
            } } }
        } } } }
        return y
    }

    // x: [N, in], w: [out, in] → [N, out]
    static func linear(_ x: [Double], N: Int, inF: Int, _ w: [Double], _ b: [Double]?, outF: Int) -> [Double] {
        var y = [Double](repeating: 0, count: N * outF)
        for n in 0..<N { for o in 0..<outF {
            var acc = b?[o] ?? 0
            for i in 0..<inF { acc += x[n * inF + i] * w[o * inF + i] }
            y[n * outF + o] = acc
        } }
        return y
    }

    // x: [C, B, H, W]
    static func groupNorm(_ x: [Double], C: Int, B: Int, HW: Int, G: Int, _ gamma: [Double], _ beta: [Double], eps: Double) -> [Double] {
        var y = x
        let Cg = C / G
        for bb in 0..<B { for g in 0..<G {
            var s = 0.0, ss = 0.0
            for c in g * Cg..<(g + 1) * Cg { for i in 0..<HW { let v = x[(c * B + bb) * HW + i]; s += v; ss += v * v } }
            let M = Double(Cg * HW), m = s / M, v = ss / M - m * m
            for c in g * Cg..<(g + 1) * Cg { for i in 0..<HW {
                let k = (c * B + bb) * HW + i
                y[k] = (x[k] - m) / (v + eps).squareRoot() * gamma[c] + beta[c]
            } }
        } }
        return y
    }

    // x: [M, C], normalised over C
    static func layerNorm(_ x: [Double], C: Int, _ gamma: [Double], _ beta: [Double], eps: Double) -> [Double] {
        var y = x
        for m in 0..<(x.count / C) {
            let row = x[(m * C)..<((m + 1) * C)]
            let mu = row.reduce(0, +) / Double(C)
            let v = row.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / Double(C)
            for c in 0..<C { y[m * C + c] = (x[m * C + c] - mu) / (v + eps).squareRoot() * gamma[c] + beta[c] }
        }
        return y
    }

    static func relu(_ x: [Double]) -> [Double] { x.map { max($0, 0) } }
    static func silu(_ x: [Double]) -> [Double] { x.map { $0 / (1 + exp(-$0)) } }
    static func gelu(_ x: [Double]) -> [Double] { x.map { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) } }

    /// Reference forward of any engine layer (recursing into Sequential/ResidualBlock), reading its
    /// parameters from `p` (a Double copy of the flat buffer). x: [C, B, H, W] for conv layers.
    static func forward(_ layer: Layer, _ x: [Double], shape: [Int], params p: [Double]) -> ([Double], [Int]) {
        func slice(_ o: Int, _ n: Int) -> [Double] { Array(p[o..<(o + n)]) }
        switch layer {
        case let l as Conv2d:
            let (C, B, H, W) = (shape[0], shape[1], shape[2], shape[3])
            let w = slice(l.weightOffset, l.outChannels * C * l.kernelH * l.kernelW)
            let b = l.biasOffset.map { slice($0, l.outChannels) }
            let (Ho, Wo) = l.outputSize(height: H, width: W)
            return (conv2d(x, C: C, B: B, H: H, W: W, w, b, O: l.outChannels, kh: l.kernelH, kw: l.kernelW, s: l.stride, p: l.padding),
                    [l.outChannels, B, Ho, Wo])
        case let l as ConvTranspose2d:
            let (C, B, H, W) = (shape[0], shape[1], shape[2], shape[3])
            let w = slice(l.weightOffset, l.outChannels * C * l.kernelH * l.kernelW)
            let b = l.biasOffset.map { slice($0, l.outChannels) }
            let (Ho, Wo) = l.outputSize(height: H, width: W)
            return (convTranspose2d(x, C: C, B: B, H: H, W: W, w, b, O: l.outChannels, kh: l.kernelH, kw: l.kernelW, s: l.stride, p: l.padding),
                    [l.outChannels, B, Ho, Wo])
        case let l as Linear:
            let N = x.count / l.inFeatures
            return (linear(x, N: N, inF: l.inFeatures, slice(l.weightOffset, l.outFeatures * l.inFeatures),
                           l.biasOffset.map { slice($0, l.outFeatures) }, outF: l.outFeatures), Array(shape.dropLast()) + [l.outFeatures])
        case let l as GroupNorm:
            return (groupNorm(x, C: shape[0], B: shape[1], HW: shape[2] * shape[3], G: l.groups,
                              l.weightOffset.map { slice($0, l.channels) } ?? Array(repeating: 1, count: l.channels),
                              l.biasOffset.map { slice($0, l.channels) } ?? Array(repeating: 0, count: l.channels), eps: Double(l.eps)), shape)
        case is ReLU: return (relu(x), shape)
        case is SiLU: return (silu(x), shape)
        case is GELU: return (gelu(x), shape)
        case let l as ResidualBlock:
            var (h, s) = forward(l.conv3, relu(x), shape: shape, params: p)
            (h, s) = forward(l.conv1, relu(h), shape: s, params: p)
            return (zip(x, h).map { $0 + $1 }, s)
        case let l as LayerNorm:
            return (layerNorm(x, C: l.features, slice(l.weightOffset, l.features), slice(l.biasOffset, l.features), eps: Double(l.eps)), shape)
        case let l as MultiHeadAttention:
            let (B, T, C) = (shape[0], shape[1], shape[2])
            let (q, _) = forward(l.qkv, x, shape: shape, params: p)
            return (forward(l.proj, MultiHeadAttention.naiveHeads(q, B: B, T: T, C: C, H: l.heads, causal: l.causal), shape: shape, params: p).0, shape)
        case let l as TransformerBlock:
            let (a, _) = forward(l.attention, forward(l.norm1, x, shape: shape, params: p).0, shape: shape, params: p)
            let y1 = zip(x, a).map { $0 + $1 }
            var (h, s) = forward(l.norm2, y1, shape: shape, params: p)
            (h, s) = forward(l.fc1, h, shape: s, params: p)
            (h, s) = forward(l.gelu, h, shape: s, params: p)
            (h, s) = forward(l.fc2, h, shape: s, params: p)
            return (zip(y1, h).map { $0 + $1 }, shape)
        case let l as PositionEmbedding:
            let n = l.length * l.features, pos = slice(l.offset, n)
            return (x.enumerated().map { $0.element + pos[$0.offset % n] }, shape)
        case let l as Patchify:
            let (C, B, H, W, q) = (shape[0], shape[1], shape[2], shape[3], l.patch)
            let gw = W / q, T = (H / q) * gw, F = q * q * C
            var y = [Double](repeating: 0, count: x.count)
            for b in 0..<B { for t in 0..<T { for c in 0..<C { for i in 0..<q { for j in 0..<q {
                y[(b * T + t) * F + (c * q + i) * q + j] = x[((c * B + b) * H + (t / gw) * q + i) * W + (t % gw) * q + j]
            } } } } }
            return (y, [B, T, F])
        case let l as Unpatchify:
            let (C, B, H, W, q) = (l.channels, shape[0], l.height, l.width, l.patch)
            let gw = W / q, T = (H / q) * gw, F = q * q * C
            var y = [Double](repeating: 0, count: x.count)
            for b in 0..<B { for t in 0..<T { for c in 0..<C { for i in 0..<q { for j in 0..<q {
                y[((c * B + b) * H + (t / gw) * q + i) * W + (t % gw) * q + j] = x[(b * T + t) * F + (c * q + i) * q + j]
            } } } } }
            return (y, [C, B, H, W])
        case let l as ViT1DEncoder:
            let c = l.config, B = shape[1], T = c.patches, K = c.tokens, W = c.dim, D = c.latent
            var (h, s) = forward(l.patchify, x, shape: shape, params: p)
            (h, s) = forward(l.embed, h, shape: s, params: p)
            (h, s) = forward(l.position, h, shape: s, params: p)
            let lat = slice(l.latentTokens, K * W)
            var seq: [Double] = []
            for b in 0..<B { let lo: Int = b * T * W, hi: Int = (b + 1) * T * W; seq += h[lo..<hi]; seq += lat }
            (h, s) = (seq, [B, T + K, W])
            for blk in l.blocks { (h, s) = forward(blk, h, shape: s, params: p) }
            (h, s) = forward(l.norm, h, shape: s, params: p)
            var picked: [Double] = []
            for b in 0..<B { let lo: Int = (b * (T + K) + T) * W, hi: Int = (b + 1) * (T + K) * W; picked += h[lo..<hi] }
            (h, s) = forward(l.toLatent, picked, shape: [B, K, W], params: p)
            var z = [Double](repeating: 0, count: D * B * K)
            for b in 0..<B { for k in 0..<K { for d in 0..<D { z[(d * B + b) * K + k] = h[(b * K + k) * D + d] } } }
            return (z, [D, B, 1, K])
        case let l as ViT1DDecoder:
            let c = l.config, B = shape[1], T = c.patches, K = c.tokens, W = c.dim, D = c.latent
            var t = [Double](repeating: 0, count: B * K * D)
            for b in 0..<B { for k in 0..<K { for d in 0..<D { t[(b * K + k) * D + d] = x[(d * B + b) * K + k] } } }
            var (lat, s) = forward(l.fromLatent, t, shape: [B, K, D], params: p)
            (lat, s) = forward(l.latentPosition, lat, shape: s, params: p)
            let mask = slice(l.maskToken, W)
            var slots: [Double] = []
            for _ in 0..<(B * T) { slots += mask }
            let (mp, _) = forward(l.position, slots, shape: [B, T, W], params: p)
            var seq: [Double] = []
            for b in 0..<B {
                let lo: Int = b * T * W, hi: Int = (b + 1) * T * W, klo: Int = b * K * W, khi: Int = (b + 1) * K * W
                seq += mp[lo..<hi]; seq += lat[klo..<khi]
            }
            var h = seq
            s = [B, T + K, W]
            for blk in l.blocks { (h, s) = forward(blk, h, shape: s, params: p) }
            (h, s) = forward(l.norm, h, shape: s, params: p)
            var picked: [Double] = []
            for b in 0..<B { let lo: Int = b * (T + K) * W, hi: Int = (b * (T + K) + T) * W; picked += h[lo..<hi] }
            (h, s) = forward(l.toPixels, picked, shape: [B, T, W], params: p)
            return forward(l.unpatchify, h, shape: s, params: p)
        case let l as Sequential:
            var (h, s) = (x, shape)
            for child in l.layers { (h, s) = forward(child, h, shape: s, params: p) }
            return (h, s)
        default:
            fatalError("Ref.forward: unsupported layer \(type(of: layer))")
        }
    }
}

enum GradCheck {
    /// Central differences of f at x for the coordinates `indices` (all when nil), step h.
    static func numeric(_ f: ([Double]) -> Double, at x: [Double], indices: [Int]? = nil, h: Double = 1e-6) -> [Double] {
        var xs = x
        return (indices ?? Array(x.indices)).map { i in
            let v = xs[i]
            xs[i] = v + h; let fp = f(xs)
            xs[i] = v - h; let fm = f(xs)
            xs[i] = v
            return (fp - fm) / (2 * h)
        }
    }

    /// ‖a − b‖ / max(‖a‖, ‖b‖, 1e-12).
    static func relativeError(_ a: [Double], _ b: [Double]) -> Double {
        precondition(a.count == b.count)
        var d = 0.0, na = 0.0, nb = 0.0
        for i in a.indices { d += (a[i] - b[i]) * (a[i] - b[i]); na += a[i] * a[i]; nb += b[i] * b[i] }
        return d.squareRoot() / max(na.squareRoot(), nb.squareRoot(), 1e-12)
    }

    /// Up to `limit` coordinates of 0..<n, spread deterministically.
    static func sample(_ n: Int, limit: Int = 120, seed: UInt64 = 9) -> [Int] {
        if n <= limit { return Array(0..<n) }
        var rng = SplitMix64(seed: seed)
        return (0..<limit).map { _ in rng.int(below: n) }
    }

    static func random(_ n: Int, _ rng: inout SplitMix64, scale: Float = 1) -> [Float] {
        (0..<n).map { _ in rng.uniform(-scale, scale) }
    }

    /// Checks a layer: its Float forward matches the Double reference (≤ 1e-4 relative), and its backward
    /// (input gradient and every parameter gradient) matches central differences of the reference
    /// for L = Σ y·R (relative error ≤ 1e-3). Gradients are pre-filled with 1 to verify accumulation (+=).
    static func check(_ layer: Layer, params: ParameterSet, inputShape: [Int], seed: UInt64 = 7,
                      checkInput: Bool = true, file: StaticString = #filePath, line: UInt = #line) {
        params.finalize()
        var rng = SplitMix64(seed: seed)
        let xValues = random(inputShape.reduce(1, *), &rng)
        let x = Tensor(shape: inputShape, values: xValues)
        let y = layer.forward(x)
        let r = random(y.count, &rng)
        let pD = params.values.values.map(Double.init)
        let xD = xValues.map(Double.init)
        let (yRef, yShape) = Ref.forward(layer, xD, shape: inputShape, params: pD)
        XCTAssertEqual(y.shape, yShape, "output shape", file: file, line: line)
        XCTAssertLessThanOrEqual(relativeError(y.values.map(Double.init), yRef), 1e-4, "forward vs reference", file: file, line: line)

        params.grads.copy(from: [Float](repeating: 1, count: params.count))
        let dx = layer.backward(Tensor(shape: y.shape, values: r))
        let rD = r.map(Double.init)
        func loss(_ out: [Double]) -> Double { zip(out, rD).reduce(0) { $0 + $1.0 * $1.1 } }

        if checkInput {
            let idx = sample(xD.count)
            let num = numeric({ loss(Ref.forward(layer, $0, shape: inputShape, params: pD).0) }, at: xD, indices: idx)
            let ana = idx.map { Double(dx[$0]) }
            let err = relativeError(ana, num)
            XCTAssertLessThanOrEqual(err, 1e-3, "input gradient rel. error \(err)", file: file, line: line)
        }
        for e in params.entries {
            let idx = sample(e.count).map { $0 + e.offset }
            let num = numeric({ loss(Ref.forward(layer, xD, shape: inputShape, params: $0).0) }, at: pD, indices: idx)
            let ana = idx.map { Double(params.grads[$0]) - 1 }
            let err = relativeError(ana, num)
            XCTAssertLessThanOrEqual(err, 1e-3, "\(e.name) gradient rel. error \(err)", file: file, line: line)
        }
    }
}
