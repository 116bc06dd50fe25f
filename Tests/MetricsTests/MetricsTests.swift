import XCTest
import MetricCatalogue
import Datasets
import Tokenizers
@testable import Metrics

final class MetricsTests: XCTestCase {
    func testValuesThatRoundToZeroPrintWithoutASign() {
        XCTAssertEqual(Metric.rfid.format(-2e-7), "0.000")
        XCTAssertEqual(Metric.rfid.format(-0.0004), "0.000")
        XCTAssertEqual(Metric.rfid.format(-0.0006), "-0.001")
        XCTAssertEqual(Metric.rfid.format(-5.995), "-5.995")
        XCTAssertEqual(Metric.rfid.format(35.7312), "35.731")
    }

    func testPSNRHandComputed() {
        func one(_ a: [UInt8], _ b: [UInt8]) -> Fidelity {
            fidelity(original: ImageBatch(count: 1, channels: 1, height: 1, width: a.count, pixels: a),
                     reconstruction: ImageBatch(count: 1, channels: 1, height: 1, width: b.count, pixels: b))
        }
        // 4 bytes, one off by 2: MSE = 4/4 = 1 → PSNR = 10·log10(65025) = 48.1308…
        XCTAssertEqual(one([10, 20, 30, 40], [10, 20, 30, 42]).psnr, 48.130803608679, accuracy: 1e-9)
        // All bytes off by 255: MSE = 255² → 0 dB.
        XCTAssertEqual(one([0, 0], [255, 255]).psnr, 0, accuracy: 1e-12)
        // Identical: the set is lossless (+∞); the image itself counts at the cap 10·log10(255²·1).
        XCTAssertEqual(one([7], [7]).psnr, .infinity)
        XCTAssertEqual(one([7], [7]).perImagePSNR, [10 * log10(255.0 * 255.0)])
    }

    func testFidelityAveragesPerImageAndCapsExactImages() {
        // Image 0: MSE 1 (48.13 dB); image 1: MSE 100 (28.13 dB). Mean PSNR 38.13; mean MSE 50.5.
        let a = ImageBatch(count: 2, channels: 1, height: 1, width: 4, pixels: [0, 0, 0, 0, 0, 0, 0, 0])
        let b = ImageBatch(count: 2, channels: 1, height: 1, width: 4, pixels: [1, 1, 1, 1, 10, 10, 10, 10])
        let f = fidelity(original: a, reconstruction: b)
        XCTAssertEqual(f.psnr, (48.130803608679 + 28.130803608679) / 2, accuracy: 1e-9)
        XCTAssertEqual(f.mse, 50.5)
        XCTAssertEqual(f.psnrOfMeanMSE, 10 * log10(65025 / 50.5), accuracy: 1e-12)
        XCTAssertEqual(f.maxAbsError, 10)
        XCTAssertEqual(f.exactFraction, 0)
        // One exact image counts at 10·log10(255²·4) (one byte off by one).
        let c = ImageBatch(count: 2, channels: 1, height: 1, width: 4, pixels: [0, 0, 0, 0, 10, 10, 10, 10])
        let g = fidelity(original: a, reconstruction: c)
        XCTAssertEqual(g.psnr, (10 * log10(65025.0 * 4) + 28.130803608679) / 2, accuracy: 1e-9)
        XCTAssertEqual(g.exactFraction, 0.5)
        XCTAssertFalse(g.lossless)
        // Per-image values, stored with the run: the cap for the exact image, 28.13 dB for the other.
        XCTAssertEqual(g.perImagePSNR.count, 2)
        XCTAssertEqual(g.perImagePSNR[0], 10 * log10(65025.0 * 4), accuracy: 1e-12)
        XCTAssertEqual(g.perImagePSNR[1], 28.130803608679, accuracy: 1e-9)
        XCTAssertEqual(f.perImagePSNR[0], 48.130803608679, accuracy: 1e-9)
        let h = fidelity(original: a, reconstruction: a)
        XCTAssertTrue(h.lossless)
        XCTAssertEqual(h.psnr, .infinity)
    }

    func testSeedBudgetTable() {
        // ImageNet-64 at 3 bits/byte: V ≥ 2^36 at L = 1024 and V ≥ 2^144 at L = 256.
        let bytes = 64 * 64 * 3
        XCTAssertEqual(InformationBudget.minLog2VForLossless(bytesPerImage: bytes, bitsPerByte: 3, tokens: 1024), 36)
        XCTAssertEqual(InformationBudget.minLog2VForLossless(bytesPerImage: bytes, bitsPerByte: 3, tokens: 256), 144)
        XCTAssertEqual(InformationBudget.table(bytesPerImage: bytes, bitsPerByte: 3, lengths: [64, 4096]).map(\.minLog2V), [576, 9])
        // Raw 4×4×3 patches at 8 bits: 256 tokens × 384 bits / 12288 bytes = 8 bits/byte.
        XCTAssertEqual(InformationBudget.capacityBitsPerByte(tokens: 256, log2V: 384, bytesPerImage: bytes), 8)
        // VQ with K = 1024 at L = 256: 2560 bits / 12288 bytes.
        XCTAssertEqual(InformationBudget.capacityBitsPerByte(tokens: 256, log2V: 10, bytesPerImage: bytes), 2560.0 / 12288, accuracy: 1e-15)
    }

    func testTokenStatistics() {
        // Codes [0,0,1,3] of V = 8: used 3 of 8; entropy = 1.5 bits; perplexity 2^1.5.
        let t = Tokens(count: 1, gridRows: 2, gridCols: 2, wordsPerToken: 1, wordRange: 8, words: [0, 0, 1, 3])
        let s = tokenStatistics(t)
        XCTAssertEqual(s.usage, 3.0 / 8)
        XCTAssertEqual(s.entropyBits!, 1.5, accuracy: 1e-12)
        XCTAssertEqual(s.perplexity!, pow(2, 1.5), accuracy: 1e-12)
        XCTAssertEqual(s.distinct, 3)
        let multi = Tokens(count: 1, gridRows: 1, gridCols: 3, wordsPerToken: 2, wordRange: 4, words: [1, 2, 1, 2, 2, 1])
        XCTAssertEqual(tokenStatistics(multi).distinct, 2)
        // Per position: position 0 sees {1, 2} (2 of 4), position 1 sees {2, 1} (2 of 4) → usage 0.5;
        // position 0 frequencies (2/3, 1/3), position 1 (2/3, 1/3): perplexity 2^H(2/3,1/3) each.
        XCTAssertEqual(tokenStatistics(multi).usage, 0.5)
        let h = -(2.0 / 3 * log2(2.0 / 3) + 1.0 / 3 * log2(1.0 / 3))
        XCTAssertEqual(tokenStatistics(multi).perplexity!, pow(2, h), accuracy: 1e-12)
    }

    func testEvaluatorOnRawPatch() throws {
        let x = ImageBatch(count: 3, channels: 1, height: 8, width: 8, pixels: (0..<192).map { UInt8($0 % 256) })
        let t = RawPatchTokenizer(patch: 4, bits: 8, shape: ImageShape(channels: 1, height: 8, width: 8))
        var reconstructions: [ImageBatch] = []
        let r = try Evaluator.evaluate(t, on: x, chunk: 2) { reconstructions.append($0.reconstructions) }
        XCTAssertEqual(reconstructions.map(\.count), [2, 1])
        XCTAssertEqual(r.value(.psnr), .infinity)
        XCTAssertEqual(r.value(.lossless), 1)
        XCTAssertEqual(r.value(.tokensPerImage), 4)
        XCTAssertEqual(r.value(.capacityBPB), 8)
        XCTAssertEqual(ImageBatch.concatenate(reconstructions), x)
        XCTAssertNil(r.value(.codebookSize))  // 2^128 is not a number we store
        // Token statistics by hand: the 192 pixels are all distinct, so each of the 16 word positions sees
        // 12 different values (3 images × 4 tokens): usage 12/256, entropy log2 12, perplexity 12.
        XCTAssertEqual(try XCTUnwrap(r.value(.usage)), 12.0 / 256, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(r.value(.perplexity)), 12, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(r.value(.tokenEntropyBPB)), log2(12.0) * 16 * 12 / 192, accuracy: 1e-9)
        // The token stream's real rate: 192 distinct byte values cost an adaptive coder at least their
        // order-0 entropy under a uniform start (about 8 bits each), and are far from free.
        let rate = try XCTUnwrap(r.value(.tokenRateBPB))
        XCTAssertGreaterThan(rate, 4)
        XCTAssertLessThan(rate, 12)
    }
}
