import XCTest
import Kernels
import Datasets
import Tokenizers
@testable import Evaluation

final class RateTests: XCTestCase {
    func testTokenRateOfAConstantStreamIsSmallAndOfNoiseNearItsEntropy() {
        let constant = Tokens(count: 20, gridRows: 4, gridCols: 4, wordsPerToken: 1, wordRange: 256, words: [UInt32](repeating: 7, count: 320))
        let c = TokenRate.measure(constant)
        XCTAssertEqual(c.entropyBits, 0)
        XCTAssertLessThan(c.codedBits, 320)          // well under one bit per token
        var rng = SplitMix64(seed: 1)
        let noise = Tokens(count: 20, gridRows: 4, gridCols: 4, wordsPerToken: 1, wordRange: 16, words: (0..<320).map { _ in UInt32(rng.int(below: 16)) })
        let n = TokenRate.measure(noise)
        XCTAssertGreaterThan(Double(n.codedBits), 0.95 * 4 * 320)   // about 4 bits each: nothing to gain
        XCTAssertLessThan(Double(n.codedBits), 1.2 * 4 * 320 + 64)
    }

    func testMultiWordTokensAreCodedPerPosition() {
        // Position 0 always 3, position 1 noise: costs about what position 1 alone costs.
        var rng = SplitMix64(seed: 2)
        let words = (0..<200).flatMap { _ in [UInt32(3), UInt32(rng.int(below: 256))] }
        let t = Tokens(count: 8, gridRows: 5, gridCols: 5, wordsPerToken: 2, wordRange: 256, words: words)
        let f = TokenRate.measure(t)
        XCTAssertGreaterThan(f.codedBits, 7 * 200)
        XCTAssertLessThan(f.codedBits, 9 * 200 + 200)
    }

    func testDataRateCountsEveryImageAndMatchesPNGSizes() throws {
        var rng = SplitMix64(seed: 3)
        let flat = ImageBatch(count: 3, channels: 1, height: 16, width: 16, pixels: [UInt8](repeating: 128, count: 768))
        let noise = ImageBatch(count: 3, channels: 3, height: 8, width: 8, pixels: (0..<576).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        let f = try DataRate.measure(flat, coders: ["tokbench-cold", "png"])
        XCTAssertLessThan(f[0].bitsPerByte, 0.5)        // flat images code to a few header bytes
        XCTAssertEqual(f[1].bits, 8 * (0..<3).reduce(0) { $0 + (try! encodePNG(flat, index: $1, level: 9)).count })
        let g = try DataRate.measure(noise, coders: ["tokbench-cold"])
        XCTAssertGreaterThan(g[0].bitsPerByte, 7.9)     // noise does not compress
        XCTAssertEqual(g[0].bytes, 576)
        try DataRate.verifyRoundTrip(noise, model: .coldStart)
        XCTAssertEqual(DataRate.coders(forDataset: "fashion-mnist", channels: 1), ["tokbench-cold", "tokbench-fitted", "png"])
        XCTAssertEqual(DataRate.coders(forDataset: "photos", channels: 3), ["tokbench-cold", "png"])
    }
}
