// One protocol over the encoder and the decoder, so every model's coding path is written once:
// `code(bit:p16:)` encodes `bit` and returns it (encoder), or ignores `bit` and returns the decoded
// bit (decoder). Model code computes the bit it *would* code from the value it knows (meaningful
// only when encoding) and always continues with the returned bit.

public protocol BinaryCoder {
    mutating func code(bit: Int, p16: Int) -> Int
    /// True when a decoder has run past the end of its input (always false for encoders).
    var isExhausted: Bool { get }
}

extension BinaryArithmeticEncoder: BinaryCoder {
    @inlinable @inline(__always)
    public mutating func code(bit: Int, p16: Int) -> Int { encode(bit: bit, p16: p16); return bit }
    @inlinable public var isExhausted: Bool { false }
}

extension BinaryArithmeticDecoder: BinaryCoder {
    @inlinable @inline(__always)
    public mutating func code(bit: Int, p16: Int) -> Int { decode(p16: p16) }
}
