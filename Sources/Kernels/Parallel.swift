// Threading: OpenBLAS threads for GEMMs plus DispatchQueue.concurrentPerform for im2col,
// col2im and elementwise loops. The two never run at the same time (BLAS calls are not nested
// inside parallelFor bodies), so `workers` threads are busy at once.
import Dispatch
import CBLAS

public enum Threading {
    /// Number of concurrentPerform workers used by `parallelFor` (1 = serial).
    nonisolated(unsafe) public static var workers: Int = max(1, System.processorCount)

    /// When true, `sgemm` splits large products over the `workers` GCD threads itself and OpenBLAS runs
    /// single-threaded; when false, OpenBLAS's own thread pool parallelises each call.
    nonisolated(unsafe) public private(set) static var splitsGEMM = false

    /// Sets the parallelFor worker count and the GEMM threading: `splitGEMM` true → OpenBLAS 1 thread and
    /// sgemm splits over workers; false → OpenBLAS uses `threads` threads.
    public static func configure(threads: Int, splitGEMM: Bool = false) {
        workers = max(1, threads)
        splitsGEMM = splitGEMM && workers > 1
        openblas_set_num_threads(Int32(splitsGEMM ? 1 : workers))
    }

    public static var blasThreads: Int { Int(openblas_get_num_threads()) }
}

enum System {
    /// The CPUs this process may use: a Slurm task's allocation (SLURM_CPUS_PER_TASK) when set, else
    /// the online processors.
    static var processorCount: Int {
        if let v = getenv("SLURM_CPUS_PER_TASK"), let n = Int(String(cString: v)), n > 0 { return n }
        #if canImport(Glibc)
        return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
        return 1
        #endif
    }
}

/// Runs `body(i)` for i in 0..<n, split into contiguous chunks over `Threading.workers` threads.
/// Stays serial when n < `minimumPerTask` · 2 or only one worker is configured.
@inline(__always)
public func parallelFor(_ n: Int, minimumPerTask: Int = 1, _ body: (Int) -> Void) {
    parallelRanges(n, minimumPerTask: minimumPerTask) { lo, hi in
        for i in lo..<hi { body(i) }
    }
}

/// Runs `body(lo, hi)` over disjoint chunks covering 0..<n; the chunk form lets inner loops vectorise.
public func parallelRanges(_ n: Int, minimumPerTask: Int = 1, _ body: (Int, Int) -> Void) {
    if n <= 0 { return }
    let workers = Threading.workers
    let maxTasks = n / max(1, minimumPerTask)
    if workers < 2 || maxTasks < 2 { body(0, n); return }
    let tasks = min(maxTasks, workers * 4)
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: tasks) { t in
            let lo = n * t / tasks, hi = n * (t + 1) / tasks
            if lo < hi { body(lo, hi) }
        }
    }
}

/// Batch-sliced convolutions: the batch 0..<B is cut into slices of `imagesPerSlice` images, slice i
/// going to worker i mod workers (fixed, so results do not depend on scheduling); each worker runs
/// `body(images, worker)` for its slices in order, with single-threaded GEMMs (`sgemmSerial`). Its
/// column matrices stay in the worker's cache instead of going through memory at full-batch size.
/// When OpenBLAS runs its own threads (`Threading.splitsGEMM` false), the slices run one after another.
public func forEachImageSlice(batch B: Int, imagesPerSlice: Int, _ body: (_ images: Range<Int>, _ worker: Int) -> Void) {
    let per = max(1, imagesPerSlice)
    let slices = (B + per - 1) / per
    let workers = Threading.splitsGEMM ? min(Threading.workers, slices) : 1
    if workers < 2 {
        for i in 0..<slices { body((i * per)..<min(B, (i + 1) * per), 0) }
        return
    }
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: workers) { t in
            var i = t
            while i < slices { body((i * per)..<min(B, (i + 1) * per), t); i += workers }
        }
    }
}

/// Images per slice for `forEachImageSlice`: about `targetColumns` columns per slice (enough for the
/// GEMM to amortise packing its weights), at least one image, and at least one slice per worker.
public func imagesPerSlice(batch B: Int, columnsPerImage: Int, targetColumns: Int = 256) -> Int {
    let byColumns = max(1, targetColumns / max(1, columnsPerImage))
    let perWorker = max(1, (B + Threading.workers - 1) / Threading.workers)
    return min(byColumns, perWorker)
}

#if canImport(Glibc)
import Glibc
#endif
