import XCTest
@testable import Kernels

// x: [C, B, H, W], w: [O, C, kh, kw] → y: [O, B, Ho, Wo] by direct loops.
func naiveConv(_ x: [Float], _ w: [Float], C: Int, B: Int, H: Int, W: Int, O: Int, kh: Int, kw: Int, s: Int, p: Int) -> [Float] {
    let Ho = (H + 2 * p - kh) / s + 1, Wo = (W + 2 * p - kw) / s + 1
    var y = [Float](repeating: 0, count: O * B * Ho * Wo)
    for o in 0..<O { for b in 0..<B { for oy in 0..<Ho { for ox in 0..<Wo {
        var acc = 0.0
        for c in 0..<C { for i in 0..<kh { for j in 0..<kw {
            let iy = oy * s - p + i, ix = ox * s - p + j
            if iy < 0 || iy >= H || ix < 0 || ix >= W { continue }
            acc += Double(x[((c * B + b) * H + iy) * W + ix]) * Double(w[((o * C + c) * kh + i) * kw + j])
        } } }
        y[((o * B + b) * Ho + oy) * Wo + ox] = Float(acc)
    } } } }
    return y
}

final class Im2colTests: XCTestCase {
    /// im2col + BLAS sgemm equals the direct convolution loop within 1e-4.
    func testIm2colGemmEqualsNaiveConv() {
        var rng = SplitMix64(seed: 2)
        let cases: [(C: Int, B: Int, H: Int, W: Int, O: Int, kh: Int, kw: Int, s: Int, p: Int)] = [
            (3, 2, 8, 8, 4, 4, 4, 2, 1), (2, 3, 7, 5, 3, 3, 3, 1, 1), (4, 1, 9, 6, 2, 3, 2, 2, 0),
            (1, 2, 5, 5, 2, 1, 1, 1, 0), (2, 2, 6, 4, 3, 3, 3, 3, 2), (3, 2, 16, 16, 8, 4, 4, 2, 1),
        ]
        for t in cases {
            let x = (0..<(t.C * t.B * t.H * t.W)).map { _ in rng.uniform(-1, 1) }
            let w = (0..<(t.O * t.C * t.kh * t.kw)).map { _ in rng.uniform(-1, 1) }
            let g = ConvGeometry(channels: t.C, batch: t.B, height: t.H, width: t.W, kernelH: t.kh, kernelW: t.kw, stride: t.s, padding: t.p)
            let col = Tensor(shape: [g.rows, g.columns])
            x.withUnsafeBufferPointer { im2col($0.baseAddress!, g, into: col.data) }
            var y = [Float](repeating: 0, count: t.O * g.columns)
            w.withUnsafeBufferPointer { wp in y.withUnsafeMutableBufferPointer { yp in
                sgemm(m: t.O, n: g.columns, k: g.rows, a: wp.baseAddress!, lda: g.rows, b: col.data, ldb: g.columns,
                      c: yp.baseAddress!, ldc: g.columns)
            } }
            let ref = naiveConv(x, w, C: t.C, B: t.B, H: t.H, W: t.W, O: t.O, kh: t.kh, kw: t.kw, s: t.s, p: t.p)
            XCTAssertEqual(y.count, ref.count)
            for i in 0..<ref.count { XCTAssertEqual(y[i], ref[i], accuracy: 1e-4, "\(t) i\(i)") }
        }
    }

    /// col2im is the adjoint of im2col: ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩; and accumulate=true adds.
    func testCol2imIsAdjoint() {
        var rng = SplitMix64(seed: 3)
        for (C, B, H, W, kh, kw, s, p) in [(2, 2, 6, 5, 3, 3, 1, 1), (3, 1, 8, 8, 4, 4, 2, 1), (1, 3, 7, 9, 2, 3, 2, 0)] {
            let g = ConvGeometry(channels: C, batch: B, height: H, width: W, kernelH: kh, kernelW: kw, stride: s, padding: p)
            let x = Tensor(shape: [C, B, H, W]); for i in 0..<x.count { x[i] = rng.uniform(-1, 1) }
            let c = Tensor(shape: [g.rows, g.columns]); for i in 0..<c.count { c[i] = rng.uniform(-1, 1) }
            let colX = Tensor(shape: [g.rows, g.columns]); im2col(x.data, g, into: colX.data)
            let back = Tensor(shape: [C, B, H, W], repeating: 7); col2im(c.data, g, into: back.data, accumulate: false)
            var lhs = 0.0, rhs = 0.0
            for i in 0..<c.count { lhs += Double(colX[i]) * Double(c[i]) }
            for i in 0..<x.count { rhs += Double(x[i]) * Double(back[i]) }
            XCTAssertEqual(lhs, rhs, accuracy: 1e-4 * max(1, abs(lhs)))
            let acc = Tensor(shape: [C, B, H, W], repeating: 1); col2im(c.data, g, into: acc.data, accumulate: true)
            for i in 0..<x.count { XCTAssertEqual(acc[i], back[i] + 1, accuracy: 1e-5) }
        }
    }

    /// The sliced im2col / col2im (padded plane, SIMD row copies) against the row-by-row whole-batch
    /// path: the same columns bit for bit, and the same planes (accumulate false: bit for bit, the terms
    /// are added in the same order; true: within rounding). Widths around the 8-lane chunks, strides
    /// 1, 2 and 3, kernels 1 to 4, paddings 0 to 2, image ranges that start past image 0.
    func testSlicedIm2colCol2imEqualWholeBatch() {
        var rng = SplitMix64(seed: 11)
        let cases: [(C: Int, B: Int, H: Int, W: Int, kh: Int, kw: Int, s: Int, p: Int)] = [
            (3, 4, 16, 16, 4, 4, 2, 1), (2, 3, 8, 8, 3, 3, 1, 1), (2, 3, 9, 17, 3, 3, 1, 1), (1, 2, 7, 23, 4, 4, 2, 1),
            (2, 3, 34, 34, 4, 4, 2, 1), (3, 2, 9, 11, 3, 2, 3, 2), (2, 2, 6, 5, 1, 1, 1, 0), (2, 3, 12, 19, 2, 3, 2, 0),
            (1, 2, 5, 40, 3, 3, 2, 2), (2, 2, 14, 28, 4, 4, 2, 1), (1, 2, 14, 14, 4, 4, 2, 1), (2, 2, 7, 7, 3, 3, 1, 1), (2, 3, 14, 14, 3, 3, 1, 1),
        ]
        for t in cases {
            let g = ConvGeometry(channels: t.C, batch: t.B, height: t.H, width: t.W, kernelH: t.kh, kernelW: t.kw, stride: t.s, padding: t.p)
            let x = Tensor(shape: [t.C, t.B, t.H, t.W]); for i in 0..<x.count { x[i] = rng.uniform(-1, 1) }
            let whole = Tensor(shape: [g.rows, g.columns]); im2col(x.data, g, into: whole.data)
            let c = Tensor(shape: [g.rows, g.columns]); for i in 0..<c.count { c[i] = rng.uniform(-1, 1) }
            let back = Tensor(shape: [t.C, t.B, t.H, t.W]); col2im(c.data, g, into: back.data, accumulate: false)
            let plane = g.outHeight * g.outWidth
            for images in [0..<t.B, 1..<t.B, 0..<1, (t.B - 1)..<t.B] {
                let n = images.count * plane, ld = n + 3                     // a row stride wider than the slice
                let col = Tensor(shape: [g.rows * ld], repeating: 9)
                im2col(x.data, g, images: images, into: col.data, ld: ld)
                for r in 0..<g.rows { for j in 0..<n {
                    XCTAssertEqual(col[r * ld + j], whole[r * g.columns + images.lowerBound * plane + j], "\(t) images \(images) row \(r) column \(j)")
                } }
                // the slice's columns of c, laid out with row stride ld, back into images
                let sliceCols = Tensor(shape: [g.rows * ld])
                for r in 0..<g.rows { for j in 0..<n { sliceCols[r * ld + j] = c[r * g.columns + images.lowerBound * plane + j] } }
                let got = Tensor(shape: [t.C, t.B, t.H, t.W], repeating: 5)
                col2im(sliceCols.data, g, images: images, ld: ld, into: got.data, accumulate: false)
                let added = Tensor(shape: [t.C, t.B, t.H, t.W], repeating: 5)
                col2im(sliceCols.data, g, images: images, ld: ld, into: added.data, accumulate: true)
                for ch in 0..<t.C { for b in 0..<t.B { for i in 0..<(t.H * t.W) {
                    let k = (ch * t.B + b) * t.H * t.W + i
                    if images.contains(b) {
                        XCTAssertEqual(got[k], back[k], "\(t) images \(images) plane (\(ch), \(b)) \(i)")
                        XCTAssertEqual(added[k], back[k] + 5, accuracy: 1e-5)
                    } else {
                        XCTAssertEqual(got[k], 5); XCTAssertEqual(added[k], 5)                  // other images untouched
                    }
                } } }
            }
        }
    }
}
