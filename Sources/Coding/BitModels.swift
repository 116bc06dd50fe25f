// Adaptive bit models, logistic mixing and SSE — the modelling half of a context-mixing coder.
//
// Probabilities live in three domains:
//   p16  ∈ [1, 65535]     P(bit = 1)·2^16, what the arithmetic coder takes;
//   p12  ∈ [0, 4095]      P(bit = 1)·2^12, the index into the stretch table;
//   st   ∈ [−2047, 2047]  stretch(p) = ln(p/(1−p)) · 256, the "logit" domain the mixer works in.
// All arithmetic is integer so that encoder and decoder agree bit for bit on every machine.

/// stretch / squash lookup tables (built once).
public enum Logistic {
    /// squashTable[d + 2048] = 65536 / (1 + e^(−d/256)), clamped to [1, 65535];  d ∈ [−2048, 2047].
    public static let squashTable: [Int32] = (0..<4096).map { i in
        let d = Double(i - 2048) / 256
        let v = 65536 / (1 + _exp(-d))
        return Int32(min(max(v.rounded(), 1), 65535))
    }
    /// stretchTable[p12] = round(256 · ln(p/(1−p))) clamped to [−2047, 2047], p = (p12 + 0.5)/4096.
    public static let stretchTable: [Int32] = (0..<4096).map { i in
        let p = (Double(i) + 0.5) / 4096
        let v = 256 * _log(p / (1 - p))
        return Int32(min(max(v.rounded(), -2047), 2047))
    }

    @inlinable @inline(__always)
    public static func squash16(_ d: Int) -> Int {
        Int(squashTable[min(max(d, -2047), 2047) + 2048])
    }
    @inlinable @inline(__always)
    public static func stretch16(_ p16: Int) -> Int {
        Int(stretchTable[min(max(p16, 0), 65535) >> 4])
    }
}

// Foundation-free exp/log (Double math is only used to build the tables above).
@usableFromInline func _exp(_ x: Double) -> Double {
    // e^x = 2^(x·log2 e): split into integer and fractional parts, Taylor series on the fraction.
    let y = x * 1.4426950408889634
    let n = y.rounded(.down)
    let f = (y - n) * 0.6931471805599453
    var term = 1.0, sum = 1.0
    for k in 1..<30 { term *= f / Double(k); sum += term }
    return sum * Double(sign: .plus, exponent: Int(n), significand: 1)
}
@usableFromInline func _log(_ x: Double) -> Double {
    // ln x = e·ln 2 + ln m, m ∈ [1, 2): atanh series on (m−1)/(m+1).
    let e = x.exponent
    let m = x.significand
    let t = (m - 1) / (m + 1), t2 = t * t
    var term = t, sum = 0.0
    var k = 1.0
    for _ in 0..<40 { sum += term / k; term *= t2; k += 2 }
    return Double(e) * 0.6931471805599453 + 2 * sum
}

/// Reciprocal table for count-based adaptation: rate(n) = 65536 / (n + 1.5).
@usableFromInline let reciprocalTable: [Int32] = (0..<1024).map { Int32(65536.0 / (Double($0) + 1.5)) }

/// A table of adaptive bit models. Entry = p (22 bits, P(1)·2^22) << 10 | n (10-bit hit count).
/// Update: p += (bit − p) / (n + 1.5), n = min(n + 1, limit): the first observations move p a lot
/// (fast cold start), later ones little (stationary estimate); `limit` keeps it adaptive.
public struct BitModelTable {
    public var cells: [UInt32]
    public let limit: Int

    /// `size` cells all starting at P(1) = p16/65536 with zero confidence.
    public init(size: Int, p16: Int = 32768, limit: Int = 255) {
        cells = [UInt32](repeating: UInt32(p16 << 6) << 10, count: max(size, 1))
        self.limit = min(limit, 1023)
    }

    @inlinable @inline(__always)
    public func p16(_ i: Int) -> Int { Self.p16(cells[i]) }

    /// A cell's P(1)·2^16 (the top 16 of its 22 probability bits).
    @inlinable @inline(__always)
    public static func p16(_ c: UInt32) -> Int { Int(c >> 16) }

    @inlinable @inline(__always)
    public func count(_ i: Int) -> Int { Int(cells[i] & 1023) }

    @inlinable @inline(__always)
    public mutating func update(_ i: Int, bit: Int) {
        cells[i] = Self.updated(cells[i], bit: bit, limit: limit)
    }

    /// A cell after seeing `bit` (the update rule above, on the cell's value).
    @inlinable @inline(__always)
    public static func updated(_ c: UInt32, bit: Int, limit: Int) -> UInt32 {
        let n = Int(c & 1023)
        let p = Int(c >> 10)                      // 22-bit probability
        let target = bit != 0 ? (1 << 22) - 1 : 0
        let np = p + ((((target - p) >> 3) * Int(reciprocalTable[n])) >> 13)
        let nn = n < limit ? n + 1 : limit
        return UInt32(min(max(np, 64), (1 << 22) - 64)) << 10 | UInt32(nn)
    }

    /// Set a cell's state directly (used for fitted priors).
    public mutating func set(_ i: Int, p16: Int, count: Int) {
        cells[i] = UInt32(min(max(p16, 1), 65535) << 6) << 10 | UInt32(min(max(count, 0), limit))
    }
}

/// Logistic mixer: p = squash(Σ w_i · st_i), one weight vector per selector context.
/// Weights are 16.16 fixed point; training is online gradient descent on coding cost:
/// w_i += lr · st_i · (bit − p).
public struct LogisticMixer {
    public let inputCount: Int
    public var weights: [Int32]         // [selectors, inputCount]
    @usableFromInline var inputs: [Int32]
    @usableFromInline var n = 0
    @usableFromInline var selected = 0
    @usableFromInline var pr = 32768
    /// Learning rate: Δw = lr · st · err / 2^12 (err in ±4096 units, w in 16.16); ≈ 8 suits small images.
    public var learningRate: Int

    public init(inputs: Int, selectors: Int, initialWeight: Int = 0, learningRate: Int = 8) {
        inputCount = inputs
        let w0 = initialWeight != 0 ? initialWeight : 65536 / max(inputs, 1)
        weights = [Int32](repeating: Int32(w0), count: inputs * max(selectors, 1))
        self.inputs = [Int32](repeating: 0, count: inputs)
        self.learningRate = learningRate
    }

    @inlinable @inline(__always)
    public mutating func add(_ st: Int) { inputs[n] = Int32(st); n += 1 }

    /// Mix the added inputs with weight set `selector`; returns p16.
    @inlinable @inline(__always)
    public mutating func mix(selector: Int) -> Int {
        selected = selector * inputCount
        pr = inputs.withUnsafeBufferPointer { st in
            weights.withUnsafeBufferPointer { w in Self.mix(w.baseAddress! + selected, st.baseAddress!, n) }
        }
        return pr
    }

    /// p16 = squash(Σ w_i · st_i / 2^16) over one weight set `w` and the inputs `st`. Integer
    /// arithmetic, so the sum is exact in any order (the loop vectorises).
    @inlinable @inline(__always)
    public static func mix(_ w: UnsafePointer<Int32>, _ st: UnsafePointer<Int32>, _ n: Int) -> Int {
        var dot = 0
        for i in 0..<n { dot &+= Int(st[i]) &* Int(w[i]) }
        return Logistic.squash16(dot >> 16)
    }

    /// w_i += (st_i · lr · err) / 2^12, clamped to ±2^22, after the weight set predicted p16 and
    /// `bit` came. In Int32 without overflow: |st| ≤ 2047, |lr · err| ≤ 8 · 4096, |w| ≤ 2^22.
    @inlinable @inline(__always)
    public static func train(_ w: UnsafeMutablePointer<Int32>, _ st: UnsafePointer<Int32>, _ n: Int,
                             bit: Int, p16: Int, learningRate: Int) {
        let e = Int32((((bit << 16) - p16) >> 4) * learningRate)
        if n == 16 {
            let s = UnsafeRawPointer(st).loadUnaligned(as: SIMD16<Int32>.self)
            let v = UnsafeRawPointer(w).loadUnaligned(as: SIMD16<Int32>.self) &+ ((s &* e) &>> 12)
            let bound = SIMD16<Int32>(repeating: 1 << 22)
            UnsafeMutableRawPointer(w).storeBytes(of: v.clamped(lowerBound: 0 &- bound, upperBound: bound), as: SIMD16<Int32>.self)
            return
        }
        for i in 0..<n {
            let v = w[i] &+ ((st[i] &* e) &>> 12)
            w[i] = min(max(v, -(1 << 22)), 1 << 22)
        }
    }

    @inlinable @inline(__always)
    public mutating func update(bit: Int) {
        let (selected, n, pr, rate) = (selected, n, pr, learningRate)
        inputs.withUnsafeBufferPointer { st in
            weights.withUnsafeMutableBufferPointer { w in
                Self.train(w.baseAddress! + selected, st.baseAddress!, n, bit: bit, p16: pr, learningRate: rate)
            }
        }
        self.n = 0
    }
}

/// Adaptive probability map (SSE): refines a probability given a small context, by interpolating
/// between 33 buckets over the stretch domain; each bucket is an adaptive probability.
public struct AdaptiveProbabilityMap {
    @usableFromInline var table: [Int32]    // [contexts, 33] P(1)·2^16
    @usableFromInline var index = 0
    public let rateShift: Int

    public init(contexts: Int, rateShift: Int = 6) {
        table = []
        table.reserveCapacity(contexts * 33)
        for _ in 0..<contexts {
            for j in 0..<33 { table.append(Int32(Logistic.squash16((j - 16) * 128))) }
        }
        self.rateShift = rateShift
    }

    /// Refined p16 for input probability `p16` in context `cx`.
    @inlinable @inline(__always)
    public mutating func refine(p16: Int, context cx: Int) -> Int {
        let s = Logistic.stretch16(p16) + 2048     // 1 … 4095
        let lo = s >> 7, w = s & 127               // bucket, weight of the upper bucket
        index = cx * 33 + lo
        let p = (Int(table[index]) * (128 - w) + Int(table[index + 1]) * w) >> 7
        if w >= 64 { index += 1 }                  // train the nearer bucket
        return min(max(p, 1), 65535)
    }

    @inlinable @inline(__always)
    public mutating func update(bit: Int) {
        let target = bit != 0 ? 65535 : 0
        let t = Int(table[index])
        table[index] = Int32(t + ((target - t) >> rateShift))
    }
}
