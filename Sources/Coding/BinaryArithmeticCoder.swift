// Binary arithmetic coder: a carry-less 32-bit range coder (the lpaq/paq8 design).
//
// The coder keeps an interval [x1, x2] of 32-bit integers. Coding a bit with probability
// p16 = P(bit == 1) · 65536 splits the interval at xmid = x1 + (x2 − x1)·p16/65536: a 1 keeps the
// lower part [x1, xmid], a 0 the upper part [xmid+1, x2]. Whenever x1 and x2 agree in their top
// byte, that byte is final: it is emitted and both ends shift left by 8. The cost of a bit is
// −log2(p) up to < 0.01 % rounding overhead; the stream ends with one flush byte.
//
// Stream-end discipline (lets the decoder detect truncation and most corruptions for free):
// the encoder writes `flush = x1 >> 24` as its last byte; the decoder pads the input with 0xFF
// bytes, so it must read exactly 3 virtual bytes past the end, and at the end its value must be
// `x1 >> 24` followed by 0xFFFFFF. `finish()` checks both and throws otherwise.

/// Errors thrown by all decoders in this module.
public enum CodingError: Error, Equatable, CustomStringConvertible {
    case truncated                 // the coded stream ends before the decoder is done
    case corrupt(String)           // header or stream-end check failed

    public var description: String {
        switch self {
        case .truncated: return "coded stream is truncated"
        case .corrupt(let why): return "coded stream is corrupt: \(why)"
        }
    }
}

/// Probability scale used by the coder: p16 ∈ [1, 65535] is P(bit == 1) · 2^16.
@usableFromInline let probabilityOne: UInt32 = 1 << 16

public struct BinaryArithmeticEncoder {
    @usableFromInline var x1: UInt32 = 0
    @usableFromInline var x2: UInt32 = 0xFFFF_FFFF
    /// The coded bytes so far (callers may pre-fill a header before coding bits).
    public var bytes: [UInt8]

    public init(header: [UInt8] = []) { bytes = header }

    /// Code `bit` (0 or 1) with probability `p16` = P(bit == 1) · 65536, clamped to [1, 65535].
    @inlinable @inline(__always)
    public mutating func encode(bit: Int, p16: Int) {
        let p = UInt64(min(max(p16, 1), 65535))
        let xmid = x1 &+ UInt32((UInt64(x2 &- x1) &* p) >> 16)
        if bit != 0 { x2 = xmid } else { x1 = xmid &+ 1 }
        while (x1 ^ x2) & 0xFF00_0000 == 0 {
            bytes.append(UInt8(x2 >> 24))
            x1 <<= 8
            x2 = (x2 << 8) | 255
        }
    }

    /// Code `count` raw bits of `value` (MSB first) at p = 1/2.
    public mutating func encode(rawBits value: UInt64, count: Int) {
        var i = count - 1
        while i >= 0 { encode(bit: Int((value >> UInt64(i)) & 1), p16: 32768); i -= 1 }
    }

    /// Write the flush byte and return the finished stream.
    public mutating func finish() -> [UInt8] {
        bytes.append(UInt8(x1 >> 24))
        return bytes
    }
}

public struct BinaryArithmeticDecoder {
    @usableFromInline var x1: UInt32 = 0
    @usableFromInline var x2: UInt32 = 0xFFFF_FFFF
    @usableFromInline var x: UInt32 = 0
    @usableFromInline let data: [UInt8]
    @usableFromInline var position: Int
    /// Bytes read past the end of `data` (read as 0xFF). A valid stream needs exactly 3.
    @usableFromInline var virtualReads = 0

    /// Start decoding `data` at byte offset `start` (after any header).
    public init(data: [UInt8], start: Int = 0) {
        self.data = data
        position = start
        for _ in 0..<4 { x = (x << 8) | UInt32(nextByte()) }
    }

    @inlinable @inline(__always)
    mutating func nextByte() -> UInt8 {
        if position < data.count { defer { position += 1 }; return data[position] }
        virtualReads += 1
        return 0xFF
    }

    /// True once the decoder has read so far past the end that the stream cannot be valid;
    /// callers check it in their loops so a truncated stream stops early.
    @inlinable public var isExhausted: Bool { virtualReads > 3 }

    @inlinable @inline(__always)
    public mutating func decode(p16: Int) -> Int {
        let p = UInt64(min(max(p16, 1), 65535))
        let xmid = x1 &+ UInt32((UInt64(x2 &- x1) &* p) >> 16)
        let bit: Int
        if x <= xmid { bit = 1; x2 = xmid } else { bit = 0; x1 = xmid &+ 1 }
        while (x1 ^ x2) & 0xFF00_0000 == 0 {
            x1 <<= 8
            x2 = (x2 << 8) | 255
            x = (x << 8) | UInt32(nextByte())
        }
        return bit
    }

    public mutating func decode(rawBits count: Int) -> UInt64 {
        var v: UInt64 = 0
        for _ in 0..<count { v = (v << 1) | UInt64(decode(p16: 32768)) }
        return v
    }

    /// Verify the stream-end discipline: all bytes consumed, exactly the flush byte last.
    public func finish() throws {
        if virtualReads > 3 { throw CodingError.truncated }
        if virtualReads < 3 || position != data.count { throw CodingError.corrupt("trailing bytes") }
        if x != ((x1 >> 24) << 24) | 0x00FF_FFFF { throw CodingError.corrupt("bad stream end") }
    }
}
