#if canImport(Glibc)
import Glibc
#endif
// Elementwise helpers over flat buffers (parallel for large counts).

let elementwiseGrain = 1 << 15

/// y[i] += x[i]
public func addInPlace(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
    parallelRanges(count, minimumPerTask: elementwiseGrain) { lo, hi in
        for i in lo..<hi { y[i] += x[i] }
    }
}

/// out[i] = a[i] + b[i]
public func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
    parallelRanges(count, minimumPerTask: elementwiseGrain) { lo, hi in
        for i in lo..<hi { out[i] = a[i] + b[i] }
    }
}

/// x[i] *= s
public func scaleInPlace(_ x: UnsafeMutablePointer<Float>, by s: Float, count: Int) {
    parallelRanges(count, minimumPerTask: elementwiseGrain) { lo, hi in
        for i in lo..<hi { x[i] *= s }
    }
}

/// Σ x[i]² accumulated in Double (chunked partial sums, deterministic for a fixed worker count).
public func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
    var total = 0.0
    var i = 0
    while i < count {
        let end = min(count, i + 4096)
        var part: Float = 0
        for j in i..<end { part += x[j] * x[j] }
        total += Double(part)
        i = end
    }
    return total
}

/// Σ (a[i] − b[i])², chunks of 4096 summed in 16 Float lanes, the chunks added in order in Double
/// (deterministic: the chunking does not depend on the worker count).
public func squaredDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Double {
    let chunk = 4096, chunks = (count + chunk - 1) / chunk
    var parts = [Double](repeating: 0, count: chunks)
    parts.withUnsafeMutableBufferPointer { parts in
        parallelFor(chunks, minimumPerTask: 8) { c in
            let lo = c * chunk, hi = min(count, lo + chunk)
            var lanes = SIMD16<Float>.zero
            var i = lo
            let ar = UnsafeRawPointer(a), br = UnsafeRawPointer(b)
            while i + 16 <= hi {
                let t = ar.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) - br.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
                lanes += t * t
                i += 16
            }
            var s = Double(lanes.sum())
            while i < hi { let t = Double(a[i] - b[i]); s += t * t; i += 1 }
            parts[c] = s
        }
    }
    return parts.reduce(0, +)
}

/// rows: [R, N] row-major; out[r] += Σ_n rows[r, n] (bias gradients).
/// Sixteen lanes of partial sums (a plain `acc += row[n]` loop stays scalar: Swift keeps the order of
/// float additions), so the result differs from a sequential sum in the last bits.
public func accumulateRowSums(_ rows: UnsafePointer<Float>, rows R: Int, columns N: Int, into out: UnsafeMutablePointer<Float>) {
    parallelFor(R, minimumPerTask: max(1, 16384 / max(1, N))) { r in out[r] += rowSum(rows + r * N, count: N) }
}

/// Σ row[0..<N] in 16 lanes, then the lanes and the tail.
@inline(__always)
func rowSum(_ row: UnsafePointer<Float>, count N: Int) -> Float {
    var lanes = SIMD16<Float>.zero
    var n = 0
    let raw = UnsafeRawPointer(row)
    while n + 16 <= N { lanes += raw.loadUnaligned(fromByteOffset: n * 4, as: SIMD16<Float>.self); n += 16 }
    var acc = lanes.sum()
    while n < N { acc += row[n]; n += 1 }
    return acc
}

/// Serial `accumulateRowSums` over rows `stride` apart (a column block of a wider matrix), for use
/// inside `forEachImageSlice` bodies.
public func accumulateRowSumsSerial(_ rows: UnsafePointer<Float>, rows R: Int, columns N: Int, stride: Int, into out: UnsafeMutablePointer<Float>) {
    for r in 0..<R { out[r] += rowSum(rows + r * stride, count: N) }
}

/// Reference for `accumulateRowSums`: one sequential Double sum per row.
public func accumulateRowSumsNaive(_ rows: UnsafePointer<Float>, rows R: Int, columns N: Int, into out: UnsafeMutablePointer<Float>) {
    for r in 0..<R {
        var acc = 0.0
        for n in 0..<N { acc += Double(rows[r * N + n]) }
        out[r] += Float(acc)
    }
}

/// rows: [R, N]; rows[r, n] += v[r] (bias add).
public func addRowBias(_ rows: UnsafeMutablePointer<Float>, rows R: Int, columns N: Int, bias: UnsafePointer<Float>) {
    parallelFor(R, minimumPerTask: max(1, 16384 / max(1, N))) { r in
        let row = rows + r * N, v = bias[r]
        for n in 0..<N { row[n] += v }
    }
}

/// row[k] = exp(row[k] − max) / Σ exp(row[j] − max) over k < n, in place (a softmax over one row).
@inline(__always)
public func softmaxInPlace(_ row: UnsafeMutablePointer<Float>, count n: Int) {
    var mx = -Float.infinity
    for k in 0..<n { mx = max(mx, row[k]) }
    var s: Float = 0
    for k in 0..<n { let e = expf(row[k] - mx); row[k] = e; s += e }
    let inv = 1 / s
    for k in 0..<n { row[k] *= inv }
}
