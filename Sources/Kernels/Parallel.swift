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
/// going to worker i mod workers; each worker runs `body(images, slice, worker)` for its slices in order,
/// with single-threaded GEMMs (`sgemmSerial`). Its column matrices stay in the worker's cache instead of
/// going through memory at full-batch size. The slices depend only on the batch and the shape, never on
/// the worker count, so per-slice partial sums added in slice order (`sumPartials`) give the same
/// numbers on any number of threads. When OpenBLAS runs its own threads (`Threading.splitsGEMM` false),
/// the slices run one after another.
public func forEachImageSlice(batch B: Int, imagesPerSlice: Int, _ body: (_ images: Range<Int>, _ slice: Int, _ worker: Int) -> Void) {
    let per = max(1, imagesPerSlice)
    let slices = (B + per - 1) / per
    let workers = Threading.splitsGEMM ? min(Threading.workers, slices) : 1
    if workers < 2 {
        for i in 0..<slices { body((i * per)..<min(B, (i + 1) * per), i, 0) }
        return
    }
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: workers) { t in
            var i = t
            while i < slices { body((i * per)..<min(B, (i + 1) * per), i, t); i += workers }
        }
    }
}

/// Number of slices `forEachImageSlice` makes of a batch.
public func sliceCount(batch B: Int, imagesPerSlice per: Int) -> Int { (B + max(1, per) - 1) / max(1, per) }

/// Images per slice for `forEachImageSlice`: about `targetColumns` columns per slice (enough for the
/// GEMM to amortise packing its weights), at least one image, at most the batch. Independent of the
/// worker count (see `forEachImageSlice`).
public func imagesPerSlice(batch B: Int, columnsPerImage: Int, targetColumns: Int = 256) -> Int {
    max(1, min(B, targetColumns / max(1, columnsPerImage)))
}

/// out[i] += Σ_s partials[s][i], the partials added in order s = 0, 1, … (deterministic); parallel over i.
public func sumPartials(_ partials: [UnsafeMutablePointer<Float>], count: Int, into out: UnsafeMutablePointer<Float>) {
    parallelRanges(count, minimumPerTask: 1 << 14) { lo, hi in
        for i in lo..<hi {
            var acc: Float = 0
            for p in partials { acc += p[i] }
            out[i] += acc
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
