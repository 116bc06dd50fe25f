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
public func im2col(_ x: UnsafePointer<Float>, _ g: ConvGeometry, images: Range<Int>, into col: UnsafeMutablePointer<Float>, ld: Int) {
    im2colRows(x, g, rows: 0..<g.rows, images: images, into: col, ld: ld)
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
public func col2im(_ col: UnsafePointer<Float>, _ g: ConvGeometry, images: Range<Int>, ld: Int,
                   into x: UnsafeMutablePointer<Float>, accumulate: Bool) {
    for c in 0..<g.channels {
        for b in images { col2imPlane(col, g, channel: c, image: b, firstImage: images.lowerBound, ld: ld, into: x, accumulate: accumulate) }
    }
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
