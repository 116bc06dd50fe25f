// Convolutions over batch slices (`forEachImageSlice`): each worker takes a few images at a time through
// im2col → GEMM → col2im with single-threaded GEMMs, so the column matrix of a slice (≈ 256 columns)
// is still in that core's cache when the next stage reads it. The whole-batch path (one im2col of
// [K, B·Ho·Wo], one split GEMM, one col2im) writes and re-reads the full column matrix through memory
// (18 MB for a 128→128 3×3 conv at batch 64, 8×8) and zeroes it once more inside BLAS for β = 0.
// Conv2d and ConvTranspose2d call these; tests hold them equal to the whole-batch path and to the
// naive convolution, and bit-identical on 1, 2 and 3 threads (Tests/KernelsTests/SlicedConvTests.swift).
//
// Slices hold about 256 columns forward and 512 backward, where each slice also writes a weight-gradient
// partial (fewer, larger slices: fewer partials to add). The partials are per slice and added in slice
// order, and the slices depend only on the batch and the shape, so the thread count never changes a
// number. Measured on the engine benchmark (`tokbench bench train --profile`); 128 and 1024 were no faster.
//
// Layout: images [C, B, H, W]; g is the geometry of the conv whose columns are built (`ConvGeometry`).

/// Scratch buffers (one per worker, or one per slice for partials), grown on demand and reused across calls.
public final class SliceScratch {
    private var buffers: [Tensor] = []
    public init() {}

    /// Makes sure `buffers` buffers of at least `count` floats exist and returns their base pointers.
    public func prepare(buffers n: Int, count: Int) -> [UnsafeMutablePointer<Float>] {
        while buffers.count < n { buffers.append(Tensor(shape: [0])) }
        for w in 0..<n where buffers[w].count < count { buffers[w] = Tensor(shape: [count]) }
        return buffers.prefix(n).map(\.data)
    }
}

/// Number of distinct worker indices `forEachImageSlice` will use.
public func sliceWorkers(batch B: Int, imagesPerSlice per: Int) -> Int {
    let slices = (B + per - 1) / per
    return Threading.splitsGEMM ? max(1, min(Threading.workers, slices)) : 1
}

/// y[o, b, ·] += bias[o] for the images of one slice (y: [O, B, plane]).
@inline(__always)
func addBias(_ y: UnsafeMutablePointer<Float>, channels O: Int, batch B: Int, plane: Int, images: Range<Int>, bias: UnsafePointer<Float>) {
    for o in 0..<O {
        let row = y + (o * B + images.lowerBound) * plane, v = bias[o]
        for i in 0..<(images.count * plane) { row[i] += v }
    }
}

/// Conv2d by im2col: y[O, B·Ho·Wo] = W[O, K] · im2col(x) + bias, the columns of each slice in scratch.
public func convForwardSliced(weight w: UnsafePointer<Float>, outChannels O: Int, bias: UnsafePointer<Float>?,
                              x: UnsafePointer<Float>, _ g: ConvGeometry, scratch: SliceScratch, into y: UnsafeMutablePointer<Float>) {
    let K = g.rows, N = g.columns, plane = g.outHeight * g.outWidth
    let per = imagesPerSlice(batch: g.batch, columnsPerImage: plane)
    let buffers = scratch.prepare(buffers: sliceWorkers(batch: g.batch, imagesPerSlice: per), count: K * per * plane)
    forEachImageSlice(batch: g.batch, imagesPerSlice: per) { images, _, worker in
        let n = images.count * plane, col = buffers[worker], c0 = images.lowerBound * plane
        im2col(x, g, images: images, into: col, ld: n)
        sgemmSerial(m: O, n: n, k: K, a: w, lda: K, b: col, ldb: n, c: y + c0, ldc: N)
        if let bias { addBias(y, channels: O, batch: g.batch, plane: plane, images: images, bias: bias) }
    }
}

/// Backward of a Conv2d by im2col, per slice: col = im2col(x) again (recomputed, not kept from the
/// forward pass), dW[O, K] += dy · colᵀ (one partial per slice, added in slice order), and when dx is
/// given, dx = col2im(Wᵀ[K, O] · dy).
public func convBackwardSliced(weight w: UnsafePointer<Float>, outChannels O: Int, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                               _ g: ConvGeometry, gradW: UnsafeMutablePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                               scratch: SliceScratch, partials: SliceScratch) {
    let K = g.rows, N = g.columns, plane = g.outHeight * g.outWidth
    let per = imagesPerSlice(batch: g.batch, columnsPerImage: plane, targetColumns: 512)
    let buffers = scratch.prepare(buffers: sliceWorkers(batch: g.batch, imagesPerSlice: per), count: K * per * plane)
    let sums = partials.prepare(buffers: sliceCount(batch: g.batch, imagesPerSlice: per), count: O * K)
    forEachImageSlice(batch: g.batch, imagesPerSlice: per) { images, slice, worker in
        let n = images.count * plane, col = buffers[worker], c0 = images.lowerBound * plane
        im2col(x, g, images: images, into: col, ld: n)
        sgemmSerial(transB: true, m: O, n: K, k: n, a: dy + c0, lda: N, b: col, ldb: n, c: sums[slice], ldc: K)
        guard let dx else { return }
        sgemmSerial(transA: true, m: K, n: n, k: O, a: w, lda: K, b: dy + c0, ldb: N, c: col, ldc: n)
        col2im(col, g, images: images, ld: n, into: dx, accumulate: false)
    }
    sumPartials(sums, count: O * K, into: gradW)
}

/// The transposed-conv form (ConvTranspose2d, and Conv2d's `.transposed` strategy): with A[Cin, R],
/// R = g.rows, and x[Cin, B·h·w] whose columns are g's output positions, y = col2im(Aᵀ · x) + bias,
/// y being g's image [C, B, H, W].
public func transposedForwardSliced(a: UnsafePointer<Float>, inChannels cin: Int, x: UnsafePointer<Float>, _ g: ConvGeometry,
                                    bias: UnsafePointer<Float>?, scratch: SliceScratch, into y: UnsafeMutablePointer<Float>) {
    let R = g.rows, N = g.columns, plane = g.outHeight * g.outWidth
    let per = imagesPerSlice(batch: g.batch, columnsPerImage: plane)
    let buffers = scratch.prepare(buffers: sliceWorkers(batch: g.batch, imagesPerSlice: per), count: R * per * plane)
    forEachImageSlice(batch: g.batch, imagesPerSlice: per) { images, _, worker in
        let n = images.count * plane, z = buffers[worker]
        sgemmSerial(transA: true, m: R, n: n, k: cin, a: a, lda: R, b: x + images.lowerBound * plane, ldb: N, c: z, ldc: n)
        col2im(z, g, images: images, ld: n, into: y, accumulate: false)
        if let bias { addBias(y, channels: g.channels, batch: g.batch, plane: g.height * g.width, images: images, bias: bias) }
    }
}

/// Backward of the transposed-conv form: dcol = im2col(dy) slice by slice; dA[Cin, R] += x · dcolᵀ
/// (one partial per slice, added in slice order: the same on any number of threads); when dx is
/// given, dx[Cin, B·h·w] = A · dcol.
public func transposedBackwardSliced(a: UnsafePointer<Float>, inChannels cin: Int, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                     _ g: ConvGeometry, gradA: UnsafeMutablePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                                     scratch: SliceScratch, partials: SliceScratch) {
    let R = g.rows, N = g.columns, plane = g.outHeight * g.outWidth
    let per = imagesPerSlice(batch: g.batch, columnsPerImage: plane, targetColumns: 512)
    let buffers = scratch.prepare(buffers: sliceWorkers(batch: g.batch, imagesPerSlice: per), count: R * per * plane)
    let sums = partials.prepare(buffers: sliceCount(batch: g.batch, imagesPerSlice: per), count: cin * R)
    forEachImageSlice(batch: g.batch, imagesPerSlice: per) { images, slice, worker in
        let n = images.count * plane, dcol = buffers[worker], c0 = images.lowerBound * plane
        im2col(dy, g, images: images, into: dcol, ld: n)
        sgemmSerial(transB: true, m: cin, n: R, k: n, a: x + c0, lda: N, b: dcol, ldb: n, c: sums[slice], ldc: R)
        if let dx { sgemmSerial(m: cin, n: n, k: R, a: a, lda: R, b: dcol, ldb: n, c: dx + c0, ldc: N) }
    }
    sumPartials(sums, count: cin * R, into: gradA)
}
