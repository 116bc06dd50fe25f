// im2col / col2im over a batch at once, channel-major layout.
// Image x: [C, B, H, W] (channel-major: the whole batch of one channel is contiguous).
// Columns col: [C·kh·kw, B·Ho·Wo] with Ho = (H + 2p − kh)/s + 1, Wo = (W + 2p − kw)/s + 1,
// row r = (c·kh + ki)·kw + kj, column (b·Ho + oy)·Wo + ox holds x[c, b, oy·s − p + ki, ox·s − p + kj]
// (zero outside the image). One GEMM W[O, C·kh·kw] · col then yields the conv output as [O, B, Ho, Wo].

public struct ConvGeometry: Equatable, Sendable {
    public let channels, batch, height, width, kernelH, kernelW, stride, padding: Int
    public var outHeight: Int { (height + 2 * padding - kernelH) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - kernelW) / stride + 1 }
    public var rows: Int { channels * kernelH * kernelW }
    public var columns: Int { batch * outHeight * outWidth }

    public init(channels: Int, batch: Int, height: Int, width: Int,
                kernelH: Int, kernelW: Int, stride: Int, padding: Int) {
        precondition(stride >= 1 && padding >= 0 && kernelH >= 1 && kernelW >= 1)
        precondition(height + 2 * padding >= kernelH && width + 2 * padding >= kernelW,
                     "ConvGeometry: kernel \(kernelH)×\(kernelW) larger than padded \(height)×\(width)")
        self.channels = channels; self.batch = batch; self.height = height; self.width = width
        self.kernelH = kernelH; self.kernelW = kernelW; self.stride = stride; self.padding = padding
    }

    /// Valid output-column range [lo, hi) for kernel offset `kj`: those ox with 0 ≤ ox·s − p + kj < W.
    @inline(__always)
    func validRange(offset k: Int, inSize: Int, outSize: Int) -> (Int, Int) {
        let s = stride, p = padding
        // smallest ox with ox*s >= p - k
        let lo = max(0, (p - k + s - 1) >= 0 ? (p - k + s - 1) / s : 0)
        // largest ox with ox*s <= inSize - 1 + p - k
        let top = inSize - 1 + p - k
        let hi = top < 0 ? 0 : min(outSize, top / s + 1)
        return (min(lo, hi), hi)
    }
}

/// x: [C, B, H, W] → col: [C·kh·kw, B·Ho·Wo] (overwrites col). Parallel over rows; each row is written
/// contiguously with plain loops (image rows are short, so per-row memcpy calls would dominate).
public func im2col(_ x: UnsafePointer<Float>, _ g: ConvGeometry, into col: UnsafeMutablePointer<Float>) {
    let N = g.columns
    parallelRanges(g.rows, minimumPerTask: max(1, 32768 / max(1, N))) { lo, hi in
        im2colRows(x, g, rows: lo..<hi, images: 0..<g.batch, into: col + lo * N, ld: N)
    }
}

/// The columns of images b0..<b1 only (serial): col: [C·kh·kw, (b1 − b0)·Ho·Wo] with row stride `ld`;
/// column 0 is image b0's first output position. For batch-sliced convolutions (`forEachImageSlice`).
/// Each (channel, image) plane is first copied into a zero-bordered plane [H + 2p, W + 2p] on the stack,
/// so every output row is one branch-free strided copy (8 then 4 SIMD lanes for strides 1 and 2). The
/// row-by-row `im2colRows` (the whole-batch path) is its reference; tests hold them equal.
public func im2col(_ x: UnsafePointer<Float>, _ g: ConvGeometry, images: Range<Int>, into col: UnsafeMutablePointer<Float>, ld: Int) {
    let B = g.batch, H = g.height, W = g.width, Ho = g.outHeight, Wo = g.outWidth
    let kh = g.kernelH, kw = g.kernelW, s = g.stride, p = g.padding
    let Wp = W + 2 * p, padCount = (H + 2 * p) * Wp + paddedSlack
    withUnsafeTemporaryAllocation(of: Float.self, capacity: padCount) { buffer in
        let pad = buffer.baseAddress!
        pad.initialize(repeating: 0, count: padCount)           // the border stays zero; the interior is rewritten per plane
        for c in 0..<g.channels {
            for b in images {
                let src = x + (c * B + b) * H * W
                for iy in 0..<H { (pad + (iy + p) * Wp + p).update(from: src + iy * W, count: W) }
                let first = col + (b - images.lowerBound) * Ho * Wo
                for ki in 0..<kh {
                    for kj in 0..<kw {
                        var d = first + ((c * kh + ki) * kw + kj) * ld
                        for oy in 0..<Ho { gatherRow(d, pad + (oy * s + ki) * Wp + kj, count: Wo, stride: s); d += Wo }
                    }
                }
            }
        }
    }
}

/// Floats past the padded plane that the SIMD row copies may read (never used): a stride-2 copy of 8
/// outputs loads 16 inputs, one past the last it keeps.
let paddedSlack = 16

/// d[i] = s[i·stride] for i in 0..<n; 8 lanes at a time, then 4, for strides 1 and 2 (stride 2 loads 16 and keeps
/// the even lanes, reading one float past the last it keeps).
@inline(__always)
func gatherRow(_ d: UnsafeMutablePointer<Float>, _ s: UnsafePointer<Float>, count n: Int, stride: Int) {
    var i = 0
    let raw = UnsafeRawPointer(s), out = UnsafeMutableRawPointer(d)
    if stride == 1 {
        while i + 8 <= n { out.storeBytes(of: raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self), toByteOffset: i * 4, as: SIMD8<Float>.self); i += 8 }
        if i + 4 <= n { out.storeBytes(of: raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD4<Float>.self), toByteOffset: i * 4, as: SIMD4<Float>.self); i += 4 }
    } else if stride == 2 {
        while i + 8 <= n { out.storeBytes(of: raw.loadUnaligned(fromByteOffset: i * 8, as: SIMD16<Float>.self).evenHalf, toByteOffset: i * 4, as: SIMD8<Float>.self); i += 8 }
        if i + 4 <= n { out.storeBytes(of: raw.loadUnaligned(fromByteOffset: i * 8, as: SIMD8<Float>.self).evenHalf, toByteOffset: i * 4, as: SIMD4<Float>.self); i += 4 }
    }
    while i < n { d[i] = s[i * stride]; i += 1 }
}

/// Rows `rows` of the column matrix for `images`, written from `col` (= row rows.lowerBound) on, row stride `ld`.
func im2colRows(_ x: UnsafePointer<Float>, _ g: ConvGeometry, rows: Range<Int>, images: Range<Int>,
                into col: UnsafeMutablePointer<Float>, ld: Int) {
    let B = g.batch, H = g.height, W = g.width, Ho = g.outHeight, Wo = g.outWidth
    let kh = g.kernelH, kw = g.kernelW, s = g.stride, p = g.padding
    for r in rows {
        let c = r / (kh * kw), ki = (r / kw) % kh, kj = r % kw
        let (xlo, xhi) = g.validRange(offset: kj, inSize: W, outSize: Wo)
        let (ylo, yhi) = g.validRange(offset: ki, inSize: H, outSize: Ho)
        var d = col + (r - rows.lowerBound) * ld
        for b in images {
            let plane = x + (c * B + b) * H * W
            for oy in 0..<Ho {
                if oy < ylo || oy >= yhi {
                    for ox in 0..<Wo { d[ox] = 0 }
                } else {
                    // source index of (oy, ox): (oy·s − p + ki)·W + ox·s − p + kj
                    let srow = plane + (oy * s - p + ki) * W
                    let off = kj - p
                    var ox = 0
                    while ox < xlo { d[ox] = 0; ox += 1 }
                    if s == 1 {
                        while ox < xhi { d[ox] = srow[ox + off]; ox += 1 }
                    } else {
                        while ox < xhi { d[ox] = srow[ox * s + off]; ox += 1 }
                    }
                    while ox < Wo { d[ox] = 0; ox += 1 }
                }
                d += Wo
            }
        }
    }
}

/// col: [C·kh·kw, B·Ho·Wo] → x: [C, B, H, W]. Accumulates (x += col2im(col)) unless `accumulate` is false,
/// in which case x is overwritten. Parallel over (channel, image) planes, which never overlap.
public func col2im(_ col: UnsafePointer<Float>, _ g: ConvGeometry, into x: UnsafeMutablePointer<Float>, accumulate: Bool) {
    let B = g.batch
    parallelFor(g.channels * B, minimumPerTask: max(1, 8192 / max(1, g.outHeight * g.outWidth * g.kernelH * g.kernelW))) { t in
        col2imPlane(col, g, channel: t / B, image: t % B, firstImage: 0, ld: g.columns, into: x, accumulate: accumulate)
    }
}

/// col2im of images b0..<b1 only (serial), from columns laid out as `im2col(_:_:images:into:ld:)` writes them.
/// Each (channel, image) plane is summed in a zeroed plane [H + 2p, W + 2p] on the stack (the terms in
/// the same order as `col2imPlane`, the whole-batch path and its reference), then its interior is
/// copied (or added) into x.
public func col2im(_ col: UnsafePointer<Float>, _ g: ConvGeometry, images: Range<Int>, ld: Int,
                   into x: UnsafeMutablePointer<Float>, accumulate: Bool) {
    let B = g.batch, H = g.height, W = g.width, Ho = g.outHeight, Wo = g.outWidth
    let kh = g.kernelH, kw = g.kernelW, s = g.stride, p = g.padding
    let Wp = W + 2 * p, padCount = (H + 2 * p) * Wp + paddedSlack
    withUnsafeTemporaryAllocation(of: Float.self, capacity: padCount) { buffer in
        let pad = buffer.baseAddress!
        for c in 0..<g.channels {
            for b in images {
                pad.initialize(repeating: 0, count: padCount)
                let first = col + (b - images.lowerBound) * Ho * Wo
                for ki in 0..<kh {
                    var kj = 0
                    while kj < kw {
                        var src = first + ((c * kh + ki) * kw + kj) * ld
                        if s == 2 && kj + 1 < kw {
                            // offsets kj and kj + 1 at stride 2 fill alternate floats of the same span: one interleaved add
                            for oy in 0..<Ho { scatterAddRowPair(pad + (oy * 2 + ki) * Wp + kj, src, src + ld, count: Wo); src += Wo }
                            kj += 2
                        } else {
                            for oy in 0..<Ho { scatterAddRow(pad + (oy * s + ki) * Wp + kj, src, count: Wo, stride: s); src += Wo }
                            kj += 1
                        }
                    }
                }
                let dst = x + (c * B + b) * H * W
                for iy in 0..<H {
                    let prow = pad + (iy + p) * Wp + p, drow = dst + iy * W
                    if accumulate { for ix in 0..<W { drow[ix] += prow[ix] } } else { drow.update(from: prow, count: W) }
                }
            }
        }
    }
}

/// d[2i] += a[i] and d[2i + 1] += b[i] for i in 0..<n: two stride-2 rows whose offsets differ by one,
/// 8 + 8 lanes at a time, then 4 + 4. Each float of d gets one term, so the sums are those of two `scatterAddRow`s.
@inline(__always)
func scatterAddRowPair(_ d: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int) {
    var i = 0
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b), out = UnsafeMutableRawPointer(d)
    while i + 8 <= n {
        let u = ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self), v = rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        let ab = SIMD16<Float>(u[0], v[0], u[1], v[1], u[2], v[2], u[3], v[3], u[4], v[4], u[5], v[5], u[6], v[6], u[7], v[7])
        out.storeBytes(of: out.loadUnaligned(fromByteOffset: i * 8, as: SIMD16<Float>.self) + ab, toByteOffset: i * 8, as: SIMD16<Float>.self)
        i += 8
    }
    if i + 4 <= n {
        let u = ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD4<Float>.self), v = rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD4<Float>.self)
        let ab = SIMD8<Float>(u[0], v[0], u[1], v[1], u[2], v[2], u[3], v[3])
        out.storeBytes(of: out.loadUnaligned(fromByteOffset: i * 8, as: SIMD8<Float>.self) + ab, toByteOffset: i * 8, as: SIMD8<Float>.self)
        i += 4
    }
    while i < n { d[2 * i] += a[i]; d[2 * i + 1] += b[i]; i += 1 }
}

/// d[i·stride] += s[i] for i in 0..<n; 8 lanes at a time, then 4, for stride 1 (other strides touch every
/// stride-th float and stay scalar).
@inline(__always)
func scatterAddRow(_ d: UnsafeMutablePointer<Float>, _ s: UnsafePointer<Float>, count n: Int, stride: Int) {
    var i = 0
    if stride == 1 {
        let raw = UnsafeRawPointer(s), out = UnsafeMutableRawPointer(d)
        while i + 8 <= n {
            let sum = out.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) + raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            out.storeBytes(of: sum, toByteOffset: i * 4, as: SIMD8<Float>.self); i += 8
        }
        if i + 4 <= n {
            let sum = out.loadUnaligned(fromByteOffset: i * 4, as: SIMD4<Float>.self) + raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD4<Float>.self)
            out.storeBytes(of: sum, toByteOffset: i * 4, as: SIMD4<Float>.self); i += 4
        }
    }
    while i < n { d[i * stride] += s[i]; i += 1 }
}

/// One (channel, image) plane of x from the columns; image b's columns start at (b − firstImage)·Ho·Wo.
@inline(__always)
func col2imPlane(_ col: UnsafePointer<Float>, _ g: ConvGeometry, channel c: Int, image b: Int, firstImage: Int, ld: Int,
                 into x: UnsafeMutablePointer<Float>, accumulate: Bool) {
    let B = g.batch, H = g.height, W = g.width, Ho = g.outHeight, Wo = g.outWidth
    let kh = g.kernelH, kw = g.kernelW, s = g.stride, p = g.padding
    let plane = Ho * Wo
    let dstPlane = x + (c * B + b) * H * W
    if !accumulate { for i in 0..<(H * W) { dstPlane[i] = 0 } }
    for ki in 0..<kh {
        let (ylo, yhi) = g.validRange(offset: ki, inSize: H, outSize: Ho)
        for kj in 0..<kw {
            let r = (c * kh + ki) * kw + kj
            let src = col + r * ld + (b - firstImage) * plane
            let (xlo, xhi) = g.validRange(offset: kj, inSize: W, outSize: Wo)
            if xhi <= xlo { continue }
            let off = kj - p
            var oy = ylo
            while oy < yhi {
                let srow = src + oy * Wo
                let drow = dstPlane + (oy * s - p + ki) * W
                if s == 1 {
                    var ox = xlo
                    while ox < xhi { drow[ox + off] += srow[ox]; ox += 1 }
                } else {
                    var ox = xlo
                    while ox < xhi { drow[ox * s + off] += srow[ox]; ox += 1 }
                }
                oy += 1
            }
        }
    }
}
