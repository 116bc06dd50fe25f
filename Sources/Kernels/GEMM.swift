// Row-major single-precision GEMM: C = alpha · op(A) · op(B) + beta · C.
// `sgemm` calls OpenBLAS; `sgemmNaive` is the reference triple loop with the same contract.
// Shapes: op(A): [m, k], op(B): [k, n], C: [m, n]; lda/ldb/ldc are row strides of the stored matrices.
import CBLAS
import Dispatch

public func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                  alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                  b: UnsafePointer<Float>, ldb: Int,
                  beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    if m == 0 || n == 0 { return }
    if k == 0 {  // BLAS leaves C untouched for k = 0 only when beta = 1; make it explicit.
        for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
        return
    }
    let workers = Threading.workers
    let work: Double = Double(m) * Double(n) * Double(k)
    let longSide: Int = max(m, n)
    if Threading.splitsGEMM && workers > 1 && work >= 2_097_152 && longSide >= 64 * workers {
        // Split C into `workers` blocks along its longer side; each block is a single-threaded BLAS call on
        // its own GCD worker (OpenBLAS itself runs with 1 thread, so no thread server spins between calls).
        let splitN = n >= m
        let total = splitN ? n : m
        let parts = workers
        DispatchQueue.concurrentPerform(iterations: parts) { t in
            var lo = total * t / parts, hi = total * (t + 1) / parts
            if splitN { lo = lo & ~15; hi = t == parts - 1 ? total : hi & ~15 } // 64-byte aligned column blocks
            let len = hi - lo
            if len <= 0 { return }
            if splitN {
                let bOff = transB ? lo * ldb : lo
                cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                            Int32(m), Int32(len), Int32(k), alpha, a, Int32(lda), b + bOff, Int32(ldb), beta, c + lo, Int32(ldc))
            } else {
                let aOff = transA ? lo : lo * lda
                cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                            Int32(len), Int32(n), Int32(k), alpha, a + aOff, Int32(lda), b, Int32(ldb), beta, c + lo * ldc, Int32(ldc))
            }
        }
        return
    }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// One BLAS call, never split: for use inside `forEachImageSlice` bodies (OpenBLAS runs one thread there).
public func sgemmSerial(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                        b: UnsafePointer<Float>, ldb: Int,
                        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    if m == 0 || n == 0 { return }
    if k == 0 {
        for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
        return
    }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Reference GEMM: plain loops, Double accumulation. Same arguments and semantics as `sgemm`.
public func sgemmNaive(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                       alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                       b: UnsafePointer<Float>, ldb: Int,
                       beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    for i in 0..<m {
        for j in 0..<n {
            var acc = 0.0
            for p in 0..<k {
                let av = transA ? a[p * lda + i] : a[i * lda + p]
                let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                acc += Double(av) * Double(bv)
            }
            let old = beta == 0 ? 0 : beta * c[i * ldc + j]
            c[i * ldc + j] = alpha * Float(acc) + old
        }
    }
}

/// Row-major double-precision GEMM through OpenBLAS: C = alpha · op(A) · op(B) + beta · C (the Fréchet
/// distance's matrix products). `dgemmNaive` is its reference.
public func dgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Double = 1,
                  a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                  beta: Double = 0, c: UnsafeMutablePointer<Double>, ldc: Int) {
    if m == 0 || n == 0 { return }
    cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

public func dgemmNaive(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Double = 1,
                       a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                       beta: Double = 0, c: UnsafeMutablePointer<Double>, ldc: Int) {
    for i in 0..<m { for j in 0..<n {
        var acc = 0.0
        for p in 0..<k { acc += (transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j]) }
        c[i * ldc + j] = alpha * acc + (beta == 0 ? 0 : beta * c[i * ldc + j])
    } }
}

/// OpenBLAS on one thread for the duration of `body` (bodies that run one image per worker), then back.
public func withSerialBLAS<T>(_ body: () throws -> T) rethrows -> T {
    let before = openblas_get_num_threads()
    openblas_set_num_threads(1)
    defer { openblas_set_num_threads(before) }
    return try body()
}
