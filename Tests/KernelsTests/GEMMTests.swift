import XCTest
@testable import Kernels

final class GEMMTests: XCTestCase {
    func randomArray(_ n: Int, _ rng: inout SplitMix64) -> [Float] { (0..<n).map { _ in rng.uniform(-1, 1) } }

    /// sgemm (OpenBLAS) equals the naive loop for every transpose combination, odd sizes, alpha/beta.
    func testSgemmMatchesNaive() {
        var rng = SplitMix64(seed: 1)
        for (m, n, k) in [(1, 1, 1), (7, 5, 3), (33, 17, 65), (64, 128, 9)] {
            for transA in [false, true] {
                for transB in [false, true] {
                    for (alpha, beta) in [(Float(1), Float(0)), (Float(0.5), Float(1)), (Float(-2), Float(0.25))] {
                        // A stored as [m, k] or (transposed) [k, m]; B as [k, n] or [n, k]
                        let a = randomArray(m * k, &rng), b = randomArray(k * n, &rng), c0 = randomArray(m * n, &rng)
                        let lda = transA ? m : k, ldb = transB ? k : n
                        var fast = c0, slow = c0
                        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
                            fast.withUnsafeMutableBufferPointer { cp in
                                sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!, lda: lda,
                                      b: bp.baseAddress!, ldb: ldb, beta: beta, c: cp.baseAddress!, ldc: n)
                            }
                            slow.withUnsafeMutableBufferPointer { cp in
                                sgemmNaive(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!, lda: lda,
                                           b: bp.baseAddress!, ldb: ldb, beta: beta, c: cp.baseAddress!, ldc: n)
                            }
                        } }
                        for i in 0..<(m * n) {
                            XCTAssertEqual(fast[i], slow[i], accuracy: 1e-4 * Float(k).squareRoot() + 1e-5,
                                           "m\(m) n\(n) k\(k) tA\(transA) tB\(transB) i\(i)")
                        }
                    }
                }
            }
        }
    }

    /// The self-split GEMM path (OpenBLAS single-threaded, blocks over GCD workers) equals the naive loop.
    func testSplitGemmMatchesNaive() {
        let saved = (Threading.workers, Threading.splitsGEMM)
        defer { Threading.configure(threads: saved.0, splitGEMM: saved.1) }
        Threading.configure(threads: 3, splitGEMM: true)
        var rng = SplitMix64(seed: 5)
        for (m, n, k) in [(200, 301, 64), (517, 90, 70)] {
            for transA in [false, true] {
                for transB in [false, true] {
                    let a = randomArray(m * k, &rng), b = randomArray(k * n, &rng), c0 = randomArray(m * n, &rng)
                    let lda = transA ? m : k, ldb = transB ? k : n
                    var fast = c0, slow = c0
                    a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
                        fast.withUnsafeMutableBufferPointer { cp in
                            sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: ap.baseAddress!, lda: lda,
                                  b: bp.baseAddress!, ldb: ldb, beta: 1, c: cp.baseAddress!, ldc: n)
                        }
                        slow.withUnsafeMutableBufferPointer { cp in
                            sgemmNaive(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: ap.baseAddress!, lda: lda,
                                       b: bp.baseAddress!, ldb: ldb, beta: 1, c: cp.baseAddress!, ldc: n)
                        }
                    } }
                    var worst: Float = 0
                    for i in 0..<(m * n) { worst = max(worst, abs(fast[i] - slow[i])) }
                    XCTAssertLessThan(worst, 1e-4, "m\(m) n\(n) k\(k) tA\(transA) tB\(transB)")
                }
            }
        }
    }

    /// A hand-checked 2×2 product, so the naive reference itself is pinned.
    func testNaiveKnownProduct() {
        let a: [Float] = [1, 2, 3, 4], b: [Float] = [5, 6, 7, 8]
        var c = [Float](repeating: 0, count: 4)
        c.withUnsafeMutableBufferPointer { cp in
            sgemmNaive(m: 2, n: 2, k: 2, a: a, lda: 2, b: b, ldb: 2, c: cp.baseAddress!, ldc: 2)
        }
        XCTAssertEqual(c, [19, 22, 43, 50])
    }
}
