import XCTest
import Kernels
import Datasets
@testable import Tokenizers
@testable import Quantizers
import Settings
import Training

final class RawPatchTests: XCTestCase {
    func randomBatch(_ b: Int, _ c: Int, _ h: Int, _ w: Int, seed: UInt64) -> ImageBatch {
        var rng = SplitMix64(seed: seed)
        return ImageBatch(count: b, channels: c, height: h, width: w, pixels: (0..<(b * c * h * w)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
    }

    func testSeedGeometry() {
        // 64×64×3, p = 4 → 16×16 = 256 tokens of 48 bytes; 128×128×3, p = 8 → 256 tokens of 192.
        let t64 = RawPatchTokenizer(patch: 4, bits: 8, shape: ImageShape(channels: 3, height: 64, width: 64))
        XCTAssertEqual(t64.tokensPerImage, 256)
        XCTAssertEqual(t64.log2VocabularySize, 384)
        let tok = t64.encode(randomBatch(1, 3, 64, 64, seed: 1))
        XCTAssertEqual(tok.wordsPerToken, 48)
        XCTAssertEqual(tok.length, 256)
        let t128 = RawPatchTokenizer(patch: 8, bits: 8, shape: ImageShape(channels: 3, height: 128, width: 128))
        XCTAssertEqual(t128.tokensPerImage, 256)
        XCTAssertEqual(t128.encode(randomBatch(1, 3, 128, 128, seed: 2)).wordsPerToken, 192)
    }

    func testEightBitsIsByteExact() {
        for (c, h, w, p) in [(3, 8, 12, 4), (1, 28, 28, 7), (3, 6, 6, 1), (1, 4, 4, 4)] {
            let x = randomBatch(3, c, h, w, seed: UInt64(h * w))
            let t = RawPatchTokenizer(patch: p, bits: 8, shape: ImageShape(channels: c, height: h, width: w))
            XCTAssertEqual(t.decode(t.encode(x)), x)
        }
    }

    func testTokenHoldsItsPatch() {
        // Image 1×4×4 with p = 2: token 1 (top right) holds rows 0–1, columns 2–3.
        let x = ImageBatch(count: 1, channels: 1, height: 4, width: 4, pixels: (0..<16).map(UInt8.init))
        let tok = RawPatchTokenizer(patch: 2, bits: 8, shape: ImageShape(channels: 1, height: 4, width: 4)).encode(x)
        XCTAssertEqual(Array(tok.words[4..<8]), [2, 3, 6, 7])
    }

    func testReducedBitsErrorBoundAndBinCentres() {
        let x = ImageBatch(count: 1, channels: 1, height: 16, width: 16, pixels: (0..<256).map(UInt8.init))
        for k in 1...7 {
            let t = RawPatchTokenizer(patch: 4, bits: k, shape: ImageShape(channels: 1, height: 16, width: 16))
            let tok = t.encode(x)
            XCTAssertEqual(tok.wordRange, 1 << k)
            XCTAssertLessThan(tok.words.max()!, UInt32(1 << k))
            let y = t.decode(tok)
            let bound = 1 << (7 - k)
            var worst = 0
            for (a, b) in zip(x.pixels, y.pixels) { worst = max(worst, abs(Int(a) - Int(b))) }
            XCTAssertEqual(worst, bound, "k=\(k)")   // the bound is reached (bin edge) and never exceeded
            XCTAssertEqual(t.log2VocabularySize, Double(16 * k))
        }
        // k = 1: two bins, decoded to 64 and 192.
        let t1 = RawPatchTokenizer(patch: 4, bits: 1, shape: ImageShape(channels: 1, height: 16, width: 16))
        XCTAssertEqual(Set(t1.decode(t1.encode(x)).pixels), [64, 192])
    }

    func testRegistryValidatesPatch() {
        let shape = ImageShape(channels: 1, height: 28, width: 28)
        XCTAssertNoThrow(try TokenizerRegistry.make(TokenizerConfig(kind: "raw-patch", values: ["patch": .int(7), "bits": .int(8)]), shape: shape))
        XCTAssertThrowsError(try TokenizerRegistry.make(TokenizerConfig(kind: "raw-patch", values: ["patch": .int(5), "bits": .int(8)]), shape: shape)) { e in
            XCTAssertEqual((e as? ConfigError)?.key, "patch")
        }
        XCTAssertThrowsError(try TokenizerRegistry.make(TokenizerConfig(kind: "nope", values: [:]), shape: shape))
    }
}
