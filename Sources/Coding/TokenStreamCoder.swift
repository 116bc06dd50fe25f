// Token-stream coder: the real coded size of a tokenizer's output, for the "token rate".
//
// tokens: [images, rows, cols] row-major, each token < 2^log2V (1 ≤ log2V ≤ 32).
// Each token is coded MSB first through a binary tree: the bit at depth i (0 = MSB) is predicted
// in the tree node `1 << i | (bits above it)`, so the tree reproduces the token's full
// distribution. One stream for the whole eval set: the model is NOT reset between images, it
// adapts across the stream (the way a learned entropy model would be fitted to the token
// distribution). No header: the shape and log2V are side information the caller knows; the
// stream ends with an 8-bit check hash of the tokens (so a wrong decode throws).
//
// Contexts:
//   .order0     p = table[node] — an adaptive order-0 model of the token distribution.
//   .neighbors  the order-0 prediction plus three hashed models of (node, left token),
//               (node, up token), (node, left, up) — "up" is the token one row above in the same
//               image, "left" the one before it in the row (a sentinel at the borders) — mixed by
//               a logistic mixer whose weight set is chosen by depth and by how often the
//               (node, left, up) context was seen.
// Hashed tables are bounded (≤ 2^22 cells each); collisions are not detected (they only cost bits).

public enum TokenContext: String, Sendable, CaseIterable {
    case order0
    case neighbors
}

public enum TokenStreamCoder {
    /// Coded size in bits (coded bytes × 8) of the token stream.
    public static func codedBits(tokens: [UInt32], rows: Int, cols: Int, images: Int, log2V: Int,
                                 context: TokenContext) -> Int {
        encode(tokens: tokens, rows: rows, cols: cols, images: images, log2V: log2V, context: context).count * 8
    }

    public static func encode(tokens: [UInt32], rows: Int, cols: Int, images: Int, log2V: Int,
                              context: TokenContext) -> [UInt8] {
        precondition(log2V >= 1 && log2V <= 32, "log2V must be in 1...32")
        precondition(rows >= 0 && cols >= 0 && images >= 0 && tokens.count == rows * cols * images,
                     "tokens.count must equal images·rows·cols")
        if log2V < 32 { precondition(tokens.allSatisfy { UInt64($0) < (UInt64(1) << UInt64(log2V)) }, "token ≥ 2^log2V") }
        var enc = BinaryArithmeticEncoder()
        var model = TokenModel(count: tokens.count, log2V: log2V, context: context)
        var out: [UInt32] = []
        model.code(coder: &enc, tokens: tokens, out: &out, rows: rows, cols: cols, images: images, encoding: true)
        enc.encode(rawBits: UInt64(checkByte(tokens)), count: 8)
        return enc.finish()
    }

    public static func decode(_ data: [UInt8], rows: Int, cols: Int, images: Int, log2V: Int,
                              context: TokenContext) throws -> [UInt32] {
        guard log2V >= 1 && log2V <= 32, rows >= 0, cols >= 0, images >= 0 else {
            throw CodingError.corrupt("bad shape")
        }
        let (rc, o1) = rows.multipliedReportingOverflow(by: cols)
        let (n, o2) = rc.multipliedReportingOverflow(by: images)
        guard !o1, !o2, n <= 1 << 32 else { throw CodingError.corrupt("bad shape") }
        var dec = BinaryArithmeticDecoder(data: data)
        var model = TokenModel(count: n, log2V: log2V, context: context)
        var out = [UInt32](repeating: 0, count: n)
        model.code(coder: &dec, tokens: [], out: &out, rows: rows, cols: cols, images: images, encoding: false)
        if dec.isExhausted { throw CodingError.truncated }
        if dec.decode(rawBits: 8) != UInt64(checkByte(out)) { throw CodingError.corrupt("check byte mismatch") }
        try dec.finish()
        return out
    }

    /// 8-bit hash of the tokens, coded after them so a wrong decode is caught (p = 255/256).
    static func checkByte(_ tokens: [UInt32]) -> UInt8 {
        var h: UInt32 = 2_166_136_261
        for t in tokens { h = (h ^ t) &* 16_777_619 }
        return UInt8(truncatingIfNeeded: h ^ (h >> 8) ^ (h >> 16) ^ (h >> 24))
    }

    /// Order-0 empirical entropy of the tokens × their count, in bits: −Σ n_t log2(n_t / N).
    public static func empiricalEntropyBits(tokens: [UInt32]) -> Double {
        guard !tokens.isEmpty else { return 0 }
        var counts: [UInt32: Int] = [:]
        for t in tokens { counts[t, default: 0] += 1 }
        return empiricalEntropyBits(counts: counts, total: tokens.count)
    }

    /// The same from the counts of each token value (`total` = their sum).
    public static func empiricalEntropyBits(counts: [UInt32: Int], total: Int) -> Double {
        guard total > 0 else { return 0 }
        let total = Double(total)
        var bits = 0.0
        for key in counts.keys.sorted() {   // fixed order: the same sum in every process
            let n = Double(counts[key]!); bits -= n * _log(n / total) / 0.6931471805599453
        }
        return bits
    }
}

/// The coded size of a token stream handed over image by image (chunks of whole images, in order): the
/// same model, coder and bits as `TokenStreamCoder.codedBits`, but only the coder's state is kept, never
/// the stream or its coded bytes. `totalTokens` (images·rows·cols of the whole stream) sizes the model
/// exactly as the one-call coder does.
public struct TokenStreamMeter {
    let rows: Int, cols: Int, log2V: Int
    var model: TokenModel
    var encoder = BinaryArithmeticEncoder()
    var emittedBytes = 0
    var check: UInt32 = 2_166_136_261

    public init(totalTokens: Int, rows: Int, cols: Int, log2V: Int, context: TokenContext) {
        precondition(log2V >= 1 && log2V <= 32, "log2V must be in 1...32")
        self.rows = rows; self.cols = cols; self.log2V = log2V
        model = TokenModel(count: totalTokens, log2V: log2V, context: context)
    }

    /// tokens: [images, rows, cols] of the next images.
    public mutating func consume(_ tokens: [UInt32]) {
        let images = rows * cols == 0 ? 0 : tokens.count / (rows * cols)
        precondition(tokens.count == images * rows * cols, "a meter takes whole images")
        if log2V < 32 { precondition(tokens.allSatisfy { UInt64($0) < (UInt64(1) << UInt64(log2V)) }, "token ≥ 2^log2V") }
        var unused: [UInt32] = []
        model.code(coder: &encoder, tokens: tokens, out: &unused, rows: rows, cols: cols, images: images, encoding: true)
        for t in tokens { check = (check ^ t) &* 16_777_619 }
        emittedBytes += encoder.bytes.count
        encoder.bytes.removeAll(keepingCapacity: true)
    }

    /// Coded bits of everything consumed, check byte and flush included.
    public mutating func finish() -> Int {
        let h = check
        encoder.encode(rawBits: UInt64(UInt8(truncatingIfNeeded: h ^ (h >> 8) ^ (h >> 16) ^ (h >> 24))), count: 8)
        return 8 * (emittedBytes + encoder.finish().count)
    }
}

struct TokenModel {
    let log2V: Int
    let context: TokenContext
    var order0: BitModelTable
    let order0Direct: Bool
    let order0Mask: Int
    var hashed: [BitModelTable] = []        // (node,left), (node,up), (node,left,up)
    let hashBits: Int
    var mixer: LogisticMixer

    init(count: Int, log2V: Int, context: TokenContext) {
        self.log2V = log2V
        self.context = context
        // Enough cells for every coded bit, capped at 2^22.
        let need = max(count * log2V * 2, 1 << 10)
        var hb = 10
        while (1 << hb) < need && hb < 22 { hb += 1 }
        hashBits = hb
        order0Direct = log2V <= hb
        order0 = BitModelTable(size: order0Direct ? 1 << log2V : 1 << hb, limit: 1023)
        order0Mask = (order0Direct ? 1 << log2V : 1 << hb) - 1
        if context == .neighbors {
            hashed = (0..<3).map { _ in BitModelTable(size: 1 << hb, limit: 255) }
        }
        mixer = LogisticMixer(inputs: 5, selectors: 33 * 3, initialWeight: 65536 / 3, learningRate: 8)
    }

    @inline(__always) static func mix64(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always) func slot(_ h: UInt64) -> Int { Int(h >> UInt64(64 - hashBits)) }

    mutating func code<C: BinaryCoder>(coder: inout C, tokens: [UInt32], out: inout [UInt32],
                                       rows: Int, cols: Int, images: Int, encoding: Bool) {
        let border: UInt64 = 1 << 33           // sentinel neighbour outside the image
        var i = 0
        for _ in 0..<images {
            for r in 0..<rows {
                if coder.isExhausted { return }
                for c in 0..<cols {
                    let token = encoding ? UInt64(tokens[i]) : 0
                    let left = c > 0 ? UInt64(encoding ? tokens[i - 1] : out[i - 1]) : border
                    let up = r > 0 ? UInt64(encoding ? tokens[i - cols] : out[i - cols]) : border
                    let hL = Self.mix64(left &* 0x1000193 &+ 1)
                    let hU = Self.mix64(up &* 0x2545F491 &+ 2)
                    let hLU = Self.mix64(hL ^ (up &* 0x9E3779B97F4A7C15) &+ 3)
                    var node: UInt64 = 1
                    for depth in 0..<log2V {
                        let bit = Int((token >> UInt64(log2V - 1 - depth)) & 1)
                        let o0 = order0Direct ? Int(node) & order0Mask : slot(Self.mix64(node))
                        let y: Int
                        if context == .order0 {
                            y = coder.code(bit: bit, p16: order0.p16(o0))
                            order0.update(o0, bit: y)
                        } else {
                            let hn = Self.mix64(node &* 0xD6E8FEB86659FD93)
                            let s0 = slot(hL ^ hn), s1 = slot(hU ^ hn), s2 = slot(hLU ^ hn)
                            mixer.add(Logistic.stretch16(order0.p16(o0)))
                            mixer.add(Logistic.stretch16(hashed[0].p16(s0)))
                            mixer.add(Logistic.stretch16(hashed[1].p16(s1)))
                            mixer.add(Logistic.stretch16(hashed[2].p16(s2)))
                            mixer.add(256)
                            let seen = min(hashed[2].count(s2), 2)
                            let p = mixer.mix(selector: depth * 3 + seen)
                            y = coder.code(bit: bit, p16: p)
                            order0.update(o0, bit: y)
                            hashed[0].update(s0, bit: y)
                            hashed[1].update(s1, bit: y)
                            hashed[2].update(s2, bit: y)
                            mixer.update(bit: y)
                        }
                        node = node << 1 | UInt64(y)
                    }
                    if !encoding { out[i] = UInt32(truncatingIfNeeded: node & ((UInt64(1) << UInt64(log2V)) - 1)) }
                    i += 1
                }
            }
        }
    }
}
