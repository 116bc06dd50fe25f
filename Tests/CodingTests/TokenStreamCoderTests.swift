import XCTest
@testable import Coding

final class TokenStreamCoderTests: XCTestCase {
    struct Rng { var s: UInt64; mutating func next() -> UInt64 { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s } }

    func testEntropyHandComputed() {
        XCTAssertEqual(TokenStreamCoder.empiricalEntropyBits(tokens: [0, 0, 1, 1]), 4, accuracy: 1e-9)
        XCTAssertEqual(TokenStreamCoder.empiricalEntropyBits(tokens: [5, 5, 5]), 0, accuracy: 1e-9)
        // {a: 2, b: 1, c: 1}: 4 · 1.5 = 6 bits.
        XCTAssertEqual(TokenStreamCoder.empiricalEntropyBits(tokens: [9, 9, 3, 7]), 6, accuracy: 1e-9)
        XCTAssertEqual(TokenStreamCoder.empiricalEntropyBits(tokens: []), 0)
    }

    /// Tokens with spatial structure: each token mostly repeats its left or up neighbour.
    static func structuredTokens(images: Int, rows: Int, cols: Int, log2V: Int, seed: UInt64) -> [UInt32] {
        var rng = Rng(s: seed)
        let mask = log2V >= 32 ? UInt64(UInt32.max) : (UInt64(1) << UInt64(log2V)) - 1
        var t = [UInt32](repeating: 0, count: images * rows * cols)
        for i in 0..<images { for r in 0..<rows { for c in 0..<cols {
            let k = (i * rows + r) * cols + c
            let u = rng.next() % 10
            if u < 4 && c > 0 { t[k] = t[k - 1] }
            else if u < 7 && r > 0 { t[k] = t[k - cols] }
            else { t[k] = UInt32(rng.next() % 16 & mask) }   // a small alphabet
        } } }
        return t
    }

    func testRoundTripBothContextsManyWidths() throws {
        for log2V in [1, 4, 10, 16, 32] {
            let tokens = Self.structuredTokens(images: 6, rows: 5, cols: 7, log2V: log2V, seed: UInt64(log2V))
            for ctx in TokenContext.allCases {
                let coded = TokenStreamCoder.encode(tokens: tokens, rows: 5, cols: 7, images: 6, log2V: log2V, context: ctx)
                let back = try TokenStreamCoder.decode(coded, rows: 5, cols: 7, images: 6, log2V: log2V, context: ctx)
                XCTAssertEqual(back, tokens, "log2V \(log2V) \(ctx)")
                XCTAssertEqual(TokenStreamCoder.codedBits(tokens: tokens, rows: 5, cols: 7, images: 6, log2V: log2V, context: ctx),
                               coded.count * 8)
            }
        }
        // Full-range 32-bit tokens.
        var rng = Rng(s: 5)
        let wide = (0..<200).map { _ in UInt32(truncatingIfNeeded: rng.next()) }
        for ctx in TokenContext.allCases {
            let coded = TokenStreamCoder.encode(tokens: wide, rows: 10, cols: 10, images: 2, log2V: 32, context: ctx)
            XCTAssertEqual(try TokenStreamCoder.decode(coded, rows: 10, cols: 10, images: 2, log2V: 32, context: ctx), wide)
        }
    }

    func testNeighboursBeatOrder0OnSpatialTokensAndCodesNearEntropy() throws {
        let tokens = Self.structuredTokens(images: 200, rows: 7, cols: 7, log2V: 10, seed: 11)
        let o0 = TokenStreamCoder.codedBits(tokens: tokens, rows: 7, cols: 7, images: 200, log2V: 10, context: .order0)
        let nb = TokenStreamCoder.codedBits(tokens: tokens, rows: 7, cols: 7, images: 200, log2V: 10, context: .neighbors)
        let h0 = TokenStreamCoder.empiricalEntropyBits(tokens: tokens)
        // Order-0 adaptive coding costs the entropy plus a learning overhead.
        XCTAssertLessThan(Double(o0), h0 * 1.05 + 400, "order0 \(o0) vs H0 \(h0)")
        XCTAssertGreaterThan(Double(o0), h0 * 0.97)
        XCTAssertLessThan(Double(nb), Double(o0) * 0.9, "neighbors \(nb) vs order0 \(o0)")
    }

    func testTruncatedTokenStreamThrows() {
        let tokens = Self.structuredTokens(images: 20, rows: 4, cols: 4, log2V: 8, seed: 3)
        for ctx in TokenContext.allCases {
            let coded = TokenStreamCoder.encode(tokens: tokens, rows: 4, cols: 4, images: 20, log2V: 8, context: ctx)
            XCTAssertThrowsError(try TokenStreamCoder.decode(Array(coded.dropLast(1)), rows: 4, cols: 4, images: 20, log2V: 8, context: ctx))
            XCTAssertThrowsError(try TokenStreamCoder.decode(Array(coded.prefix(coded.count / 2)), rows: 4, cols: 4, images: 20, log2V: 8, context: ctx))
            XCTAssertThrowsError(try TokenStreamCoder.decode([], rows: 4, cols: 4, images: 20, log2V: 8, context: ctx))
        }
    }
}
