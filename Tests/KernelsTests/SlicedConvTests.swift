import XCTest
@testable import Kernels

/// The batch-sliced convolutions (Kernels/SlicedConv.swift) against the direct convolution loop and the
/// whole-batch im2col/col2im path with the naive GEMM, serial and over 2 and 3 concurrent workers (so
/// slices, per-worker partial weight gradients and uneven last slices are all exercised).
final class SlicedConvTests: XCTestCase {
    typealias Case = (C: Int, B: Int, H: Int, W: Int, O: Int, k: Int, s: Int, p: Int)
    let cases: [Case] = [(3, 5, 8, 8, 4, 4, 2, 1), (2, 7, 7, 5, 3, 3, 1, 1), (4, 3, 6, 6, 6, 1, 1, 0), (2, 9, 16, 16, 3, 4, 2, 1)]

    func random(_ n: Int, _ rng: inout SplitMix64) -> [Float] { (0..<n).map { _ in rng.uniform(-1, 1) } }

    /// Runs `body` under each threading set-up (workers, split GEMM), restoring the previous one.
    func underEachThreading(_ body: (String) -> Void) {
        let saved = (Threading.workers, Threading.splitsGEMM)
        defer { Threading.configure(threads: saved.0, splitGEMM: saved.1) }
        for (workers, split) in [(1, false), (2, true), (3, true)] {
            Threading.configure(threads: workers, splitGEMM: split)
            body("workers \(workers) split \(split)")
        }
    }

    func testConvForwardAndBackwardMatchReference() {
        var rng = SplitMix64(seed: 11)
        for t in cases {
            let g = ConvGeometry(channels: t.C, batch: t.B, height: t.H, width: t.W, kernelH: t.k, kernelW: t.k, stride: t.s, padding: t.p)
            let K = g.rows, N = g.columns
            let x = random(t.C * t.B * t.H * t.W, &rng), w = random(t.O * K, &rng), bias = random(t.O, &rng), dy = random(t.O * N, &rng)
            // references: y = naive conv + bias; dW = dy · colᵀ; dx = col2im(Wᵀ · dy)
            var yRef = naiveConv(x, w, C: t.C, B: t.B, H: t.H, W: t.W, O: t.O, kh: t.k, kw: t.k, s: t.s, p: t.p)
            for o in 0..<t.O { for n in 0..<N { yRef[o * N + n] += bias[o] } }
            let col = Tensor(shape: [K, N]), dcol = Tensor(shape: [K, N])
            var dwRef = [Float](repeating: 0.5, count: t.O * K), dxRef = [Float](repeating: 0, count: x.count)
            x.withUnsafeBufferPointer { im2col($0.baseAddress!, g, into: col.data) }
            dy.withUnsafeBufferPointer { dyp in
                dwRef.withUnsafeMutableBufferPointer {
                    sgemmNaive(transB: true, m: t.O, n: K, k: N, a: dyp.baseAddress!, lda: N, b: col.data, ldb: N, beta: 1, c: $0.baseAddress!, ldc: K)
                }
                w.withUnsafeBufferPointer { sgemmNaive(transA: true, m: K, n: N, k: t.O, a: $0.baseAddress!, lda: K, b: dyp.baseAddress!, ldb: N, c: dcol.data, ldc: N) }
            }
            dxRef.withUnsafeMutableBufferPointer { col2im(dcol.data, g, into: $0.baseAddress!, accumulate: false) }

            underEachThreading { how in
                let scratch = SliceScratch(), partials = SliceScratch()
                var y = [Float](repeating: .nan, count: t.O * N), dw = [Float](repeating: 0.5, count: t.O * K)
                var dx = [Float](repeating: .nan, count: x.count)
                x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in dy.withUnsafeBufferPointer { dyp in bias.withUnsafeBufferPointer { bp in
                    y.withUnsafeMutableBufferPointer {
                        convForwardSliced(weight: wp.baseAddress!, outChannels: t.O, bias: bp.baseAddress!, x: xp.baseAddress!, g,
                                          scratch: scratch, into: $0.baseAddress!)
                    }
                    dw.withUnsafeMutableBufferPointer { dwp in dx.withUnsafeMutableBufferPointer { dxp in
                        convBackwardSliced(weight: wp.baseAddress!, outChannels: t.O, x: xp.baseAddress!, dy: dyp.baseAddress!, g,
                                           gradW: dwp.baseAddress!, dx: dxp.baseAddress!, scratch: scratch, partials: partials)
                    } }
                } } } }
                for i in 0..<y.count { XCTAssertEqual(y[i], yRef[i], accuracy: 1e-4, "\(t) \(how) y[\(i)]") }
                for i in 0..<dw.count { XCTAssertEqual(dw[i], dwRef[i], accuracy: 1e-3, "\(t) \(how) dW[\(i)]") }
                for i in 0..<dx.count { XCTAssertEqual(dx[i], dxRef[i], accuracy: 1e-4, "\(t) \(how) dx[\(i)]") }
            }
        }
    }

    /// The transposed form: y = col2im(Aᵀ·x) + bias; dA += x · im2col(dy)ᵀ; dx = A · im2col(dy).
    func testTransposedForwardAndBackwardMatchReference() {
        var rng = SplitMix64(seed: 12)
        for t in cases {
            // g: the conv whose image is y [O, B, H, W] and whose columns are x's positions
            let g = ConvGeometry(channels: t.O, batch: t.B, height: t.H, width: t.W, kernelH: t.k, kernelW: t.k, stride: t.s, padding: t.p)
            let R = g.rows, N = g.columns, cin = t.C
            let a = random(cin * R, &rng), x = random(cin * N, &rng), bias = random(t.O, &rng), dy = random(t.O * t.B * t.H * t.W, &rng)
            let z = Tensor(shape: [R, N]), dcol = Tensor(shape: [R, N])
            var yRef = [Float](repeating: 0, count: dy.count), daRef = [Float](repeating: 0.25, count: a.count), dxRef = [Float](repeating: 0, count: x.count)
            a.withUnsafeBufferPointer { ap in x.withUnsafeBufferPointer { xp in
                sgemmNaive(transA: true, m: R, n: N, k: cin, a: ap.baseAddress!, lda: R, b: xp.baseAddress!, ldb: N, c: z.data, ldc: N)
                dy.withUnsafeBufferPointer { im2col($0.baseAddress!, g, into: dcol.data) }
                daRef.withUnsafeMutableBufferPointer {
                    sgemmNaive(transB: true, m: cin, n: R, k: N, a: xp.baseAddress!, lda: N, b: dcol.data, ldb: N, beta: 1, c: $0.baseAddress!, ldc: R)
                }
                dxRef.withUnsafeMutableBufferPointer { sgemmNaive(m: cin, n: N, k: R, a: ap.baseAddress!, lda: R, b: dcol.data, ldb: N, c: $0.baseAddress!, ldc: N) }
            } }
            yRef.withUnsafeMutableBufferPointer { col2im(z.data, g, into: $0.baseAddress!, accumulate: false) }
            let plane = t.H * t.W
            for o in 0..<t.O { for i in 0..<(t.B * plane) { yRef[o * t.B * plane + i] += bias[o] } }

            underEachThreading { how in
                let scratch = SliceScratch(), partials = SliceScratch()
                var y = [Float](repeating: .nan, count: dy.count), da = [Float](repeating: 0.25, count: a.count)
                var dx = [Float](repeating: .nan, count: x.count)
                a.withUnsafeBufferPointer { ap in x.withUnsafeBufferPointer { xp in dy.withUnsafeBufferPointer { dyp in bias.withUnsafeBufferPointer { bp in
                    y.withUnsafeMutableBufferPointer {
                        transposedForwardSliced(a: ap.baseAddress!, inChannels: cin, x: xp.baseAddress!, g, bias: bp.baseAddress!,
                                                scratch: scratch, into: $0.baseAddress!)
                    }
                    da.withUnsafeMutableBufferPointer { dap in dx.withUnsafeMutableBufferPointer { dxp in
                        transposedBackwardSliced(a: ap.baseAddress!, inChannels: cin, x: xp.baseAddress!, dy: dyp.baseAddress!, g,
                                                 gradA: dap.baseAddress!, dx: dxp.baseAddress!, scratch: scratch, partials: partials)
                    } }
                } } } }
                for i in 0..<y.count { XCTAssertEqual(y[i], yRef[i], accuracy: 1e-4, "\(t) \(how) y[\(i)]") }
                for i in 0..<da.count { XCTAssertEqual(da[i], daRef[i], accuracy: 1e-3, "\(t) \(how) dA[\(i)]") }
                for i in 0..<dx.count { XCTAssertEqual(dx[i], dxRef[i], accuracy: 1e-4, "\(t) \(how) dx[\(i)]") }
            }
        }
    }

    /// Slices cover the batch exactly once, each slice index once, and depend only on the batch and shape.
    func testSlicesCoverTheBatch() {
        let saved = (Threading.workers, Threading.splitsGEMM)
        defer { Threading.configure(threads: saved.0, splitGEMM: saved.1) }
        Threading.configure(threads: 3, splitGEMM: true)
        for (B, per) in [(1, 4), (7, 2), (64, 4), (10, 3)] {
            var seen = [Int](repeating: 0, count: B), slicesSeen = [Int](repeating: 0, count: sliceCount(batch: B, imagesPerSlice: per))
            let lock = NSLock()
            var workersUsed = Set<Int>()
            forEachImageSlice(batch: B, imagesPerSlice: per) { images, slice, worker in
                lock.lock(); defer { lock.unlock() }
                for b in images { seen[b] += 1 }
                XCTAssertEqual(images.lowerBound, slice * per)
                slicesSeen[slice] += 1
                workersUsed.insert(worker)
            }
            XCTAssertEqual(seen, [Int](repeating: 1, count: B), "B\(B) per\(per)")
            XCTAssertEqual(slicesSeen, [Int](repeating: 1, count: slicesSeen.count), "B\(B) per\(per)")
            XCTAssertEqual(workersUsed.count, min(3, (B + per - 1) / per), "B\(B) per\(per)")
        }
        XCTAssertEqual(imagesPerSlice(batch: 64, columnsPerImage: 64), 4)
        XCTAssertEqual(imagesPerSlice(batch: 4, columnsPerImage: 16), 4)      // at most the batch
        XCTAssertEqual(imagesPerSlice(batch: 64, columnsPerImage: 1024), 1)
    }

    /// The same numbers, bit for bit, on 1, 2 and 3 threads: slices do not depend on the worker count and
    /// the per-slice weight-gradient partials are added in slice order.
    func testResultsDoNotDependOnThreadCount() {
        var rng = SplitMix64(seed: 13)
        let t: Case = (4, 9, 8, 8, 6, 3, 1, 1)
        let g = ConvGeometry(channels: t.C, batch: t.B, height: t.H, width: t.W, kernelH: t.k, kernelW: t.k, stride: t.s, padding: t.p)
        let x = random(t.C * g.batch * t.H * t.W, &rng), w = random(t.O * g.rows, &rng), dy = random(t.O * g.columns, &rng)
        var outputs: [[Float]] = []
        underEachThreading { _ in
            var dw = [Float](repeating: 0, count: w.count), dx = [Float](repeating: 0, count: x.count)
            var da = [Float](repeating: 0, count: w.count)
            x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in dy.withUnsafeBufferPointer { dyp in
                dw.withUnsafeMutableBufferPointer { dwp in dx.withUnsafeMutableBufferPointer { dxp in
                    convBackwardSliced(weight: wp.baseAddress!, outChannels: t.O, x: xp.baseAddress!, dy: dyp.baseAddress!, g,
                                       gradW: dwp.baseAddress!, dx: dxp.baseAddress!, scratch: SliceScratch(), partials: SliceScratch())
                } }
                // the transposed form on the same sizes: A [O, C·9] from the x positions' side (cin = O)
                let gt = ConvGeometry(channels: t.C, batch: t.B, height: t.H, width: t.W, kernelH: 3, kernelW: 3, stride: 1, padding: 1)
                da.withUnsafeMutableBufferPointer { dap in
                    transposedBackwardSliced(a: wp.baseAddress!, inChannels: t.O, x: dyp.baseAddress!, dy: xp.baseAddress!, gt,
                                             gradA: dap.baseAddress!, dx: nil, scratch: SliceScratch(), partials: SliceScratch())
                }
            } } }
            outputs.append(dw + dx + da)
        }
        XCTAssertEqual(outputs.count, 3)
        XCTAssertEqual(outputs[0], outputs[1], "1 thread against 2")
        XCTAssertEqual(outputs[0], outputs[2], "1 thread against 3")
    }
}
