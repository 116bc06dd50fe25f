/// SHA-256 (FIPS 180-4), to fingerprint experiment files and eval splits. Returns lowercase hex.
func sha256Hex(_ message: [UInt8]) -> String {
    var h = SHA256Hasher()
    h.update(message)
    return h.finishHex()
}

/// Incremental SHA-256: `update` with the message in pieces of any size (an eval split chunk by
/// chunk), then `finishHex`; the digest equals `sha256Hex` of the concatenation.
public struct SHA256Hasher {
    static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]
    var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
    var pending: [UInt8] = []        // < 64 bytes not yet compressed
    var length: UInt64 = 0           // bytes so far
    var w = [UInt32](repeating: 0, count: 64)

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { update($0) }
    }

    mutating func update(_ bytes: UnsafeBufferPointer<UInt8>) {
        length += UInt64(bytes.count)
        var i = 0
        if !pending.isEmpty {
            let take = min(64 - pending.count, bytes.count)
            pending.append(contentsOf: bytes[0..<take]); i = take
            if pending.count == 64 { let p = pending; p.withUnsafeBufferPointer { compress($0, 0) }; pending.removeAll(keepingCapacity: true) }
        }
        while i + 64 <= bytes.count { compress(bytes, i); i += 64 }
        if i < bytes.count { pending.append(contentsOf: bytes[i...]) }
    }

    public mutating func finishHex() -> String {
        let bitLength = length * 8
        var tail = pending
        tail.append(0x80)
        while tail.count % 64 != 56 { tail.append(0) }
        for i in (0..<8).reversed() { tail.append(UInt8(truncatingIfNeeded: bitLength >> (UInt64(i) * 8))) }
        tail.withUnsafeBufferPointer { t in for c in stride(from: 0, to: t.count, by: 64) { compress(t, c) } }
        pending = []
        return h.map { v in let s = String(v, radix: 16); return String(repeating: "0", count: 8 - s.count) + s }.joined()
    }

    /// The state between two updates, as integers (for a resumable evaluation), and back.
    var state: [Int] { h.map { Int($0) } + [Int(length)] + pending.map { Int($0) } }

    init(state: [Int]) throws {
        guard state.count >= 9, state.count - 9 < 64, state.allSatisfy({ $0 >= 0 }), state[0..<8].allSatisfy({ $0 <= Int(UInt32.max) }),
              state[9...].allSatisfy({ $0 <= 255 }), state[8] % 64 == state.count - 9 else {
            throw SHA256StateError()
        }
        h = state[0..<8].map { UInt32($0) }
        length = UInt64(state[8])
        pending = state[9...].map { UInt8($0) }
    }

    public init() {}

    @inline(__always) static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }

    /// One 64-byte block at `msg[at...]`.
    mutating func compress(_ msg: UnsafeBufferPointer<UInt8>, _ at: Int) {
        for i in 0..<16 {
            w[i] = UInt32(msg[at + 4 * i]) << 24 | UInt32(msg[at + 4 * i + 1]) << 16 | UInt32(msg[at + 4 * i + 2]) << 8 | UInt32(msg[at + 4 * i + 3])
        }
        for i in 16..<64 {
            let s0 = Self.rotr(w[i - 15], 7) ^ Self.rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
            let s1 = Self.rotr(w[i - 2], 17) ^ Self.rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
            w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
        }
        var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
        for i in 0..<64 {
            let t1 = hh &+ (Self.rotr(e, 6) ^ Self.rotr(e, 11) ^ Self.rotr(e, 25)) &+ ((e & f) ^ (~e & g)) &+ Self.k[i] &+ w[i]
            let t2 = (Self.rotr(a, 2) ^ Self.rotr(a, 13) ^ Self.rotr(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
            (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
        }
        h[0] &+= a; h[1] &+= b; h[2] &+= c; h[3] &+= d; h[4] &+= e; h[5] &+= f; h[6] &+= g; h[7] &+= hh
    }
}

struct SHA256StateError: Error, CustomStringConvertible { var description: String { "malformed SHA-256 state" } }
