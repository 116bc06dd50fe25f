import XCTest
import Datasets
import Metrics
import MetricCatalogue
import Tokenizers
@testable import Coding

/// The streaming evaluator against the whole-split references: every accumulated figure equals the
/// one-call function on the concatenated split, whatever the chunk sizes (the naive path beside the fast one).
final class AccumulatorTests: XCTestCase {
    var rng = SplitMix64Test(seed: 7)

    func images(_ n: Int, c: Int, h: Int, w: Int) -> ImageBatch {
        // Smooth gradients plus noise: structured enough that the coders and SSIM see texture.
        var b = ImageBatch(count: n, channels: c, height: h, width: w)
        for i in 0..<b.pixels.count { b.pixels[i] = UInt8(truncatingIfNeeded: (i % w) * 3 + (i / w) % h + Int(rng.next() % 24)) }
        return b
    }

    func noisy(_ b: ImageBatch) -> ImageBatch {
        var r = b
        for i in 0..<r.pixels.count where rng.next() % 3 == 0 { r.pixels[i] = UInt8(truncatingIfNeeded: Int(r.pixels[i]) + Int(rng.next() % 9) - 4) }
        r.pixels.replaceSubrange(0..<(b.bytesPerImage), with: b.pixels[0..<b.bytesPerImage])   // one exact image
        return r
    }

    func tokens(_ n: Int, rows: Int, cols: Int, S: Int, V: Int) -> Tokens {
        let words = (0..<(n * rows * cols * S)).map { i in UInt32((i / S) % 5 == 0 ? i % V : Int(rng.next() % UInt64(V))) }
        return Tokens(count: n, gridRows: rows, gridCols: cols, wordsPerToken: S, wordRange: V, words: words)
    }

    /// Runs the evaluator over `chunks` (sizes summing to N) and returns its report.
    func streamed(_ x: ImageBatch, _ y: ImageBatch, _ t: Tokens?, log2V: Double?, chunks: [Int]) throws -> EvaluationReport {
        let e = try StreamingEvaluator(images: x.count, bytesPerImage: x.bytesPerImage, log2Vocab: log2V, hasTokens: t != nil)
        var b = 0
        for k in chunks {
            try e.consume(EvalChunk(first: b, originals: x.slice(b..<(b + k)), reconstructions: y.slice(b..<(b + k)), tokens: t?.images(b..<(b + k))))
            b += k
        }
        XCTAssertEqual(b, x.count)
        return try e.finish()
    }

    func assertSameFigures(_ a: EvaluationReport, _ b: EvaluationReport, file: StaticString = #filePath, line: UInt = #line) {
        let da = Dictionary(a.values.map { ($0.metric.key, $0.value) }, uniquingKeysWith: { x, _ in x })
        let db = Dictionary(b.values.map { ($0.metric.key, $0.value) }, uniquingKeysWith: { x, _ in x })
        XCTAssertEqual(da.keys.sorted(), db.keys.sorted(), file: file, line: line)
        for (k, v) in da where k != Metric.evalSeconds.key { XCTAssertEqual(v, db[k], "\(k)", file: file, line: line) }   // bit-identical
        XCTAssertEqual(a.perImage.map(\.metric.key), b.perImage.map(\.metric.key), file: file, line: line)
        for (p, q) in zip(a.perImage, b.perImage) { XCTAssertEqual(p.values, q.values, file: file, line: line) }
    }

    func testChunkedEqualsWholeSplitOneWordTokens() throws {
        let x = images(11, c: 3, h: 16, w: 16), y = noisy(x)
        let t = tokens(11, rows: 4, cols: 4, S: 1, V: 64)
        let whole = try streamed(x, y, t, log2V: 6, chunks: [11])
        for chunks in [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [3, 3, 3, 2], [7, 4]] {
            assertSameFigures(try streamed(x, y, t, log2V: 6, chunks: chunks), whole)
        }
        // And the whole-split references themselves.
        let f = fidelity(original: x, reconstruction: y)
        XCTAssertEqual(whole.value(.psnr), f.psnr)
        XCTAssertEqual(whole.value(.mse), f.mse)
        XCTAssertEqual(whole.value(.maxAbsError), Double(f.maxAbsError))
        XCTAssertEqual(whole.perImage.first { $0.metric == .psnr }!.values, f.perImagePSNR)
        XCTAssertEqual(whole.value(.ssim)!, SSIM.perImage(original: x, reconstruction: y).reduce(0, +) / 11, accuracy: 1e-12)
        let s = tokenStatistics(t), r = TokenRate.measure(t)
        XCTAssertEqual(whole.value(.usage), s.usage)
        XCTAssertEqual(whole.value(.perplexity), s.perplexity)
        XCTAssertEqual(whole.value(.distinctTokens), Double(s.distinct))
        let bytes = Double(x.pixels.count)
        XCTAssertEqual(whole.value(.tokenRateBPB), Double(r.codedBits) / bytes)
        XCTAssertEqual(whole.value(.tokenRateOrder0BPB), Double(r.order0Bits) / bytes)
        XCTAssertEqual(whole.value(.tokenRateContextBPB), Double(r.contextBits) / bytes)
        XCTAssertEqual(whole.value(.tokenEntropyBPB), r.entropyBits / bytes)
    }

    func testChunkedEqualsWholeSplitMultiWordTokens() throws {
        // Raw-patch-like tokens: 3 words per token, 2-byte words on the spool (V = 300).
        let x = images(9, c: 1, h: 12, w: 12), y = noisy(x)
        let t = tokens(9, rows: 3, cols: 3, S: 3, V: 300)
        let log2V = 3 * log2(300.0)
        let whole = try streamed(x, y, t, log2V: log2V, chunks: [9])
        assertSameFigures(try streamed(x, y, t, log2V: log2V, chunks: [2, 5, 1, 1]), whole)
        let s = tokenStatistics(t), r = TokenRate.measure(t)
        XCTAssertEqual(whole.value(.usage), s.usage)
        XCTAssertEqual(whole.value(.distinctTokens), Double(s.distinct))
        XCTAssertEqual(whole.value(.tokenRateBPB), Double(r.codedBits) / Double(x.pixels.count))
        XCTAssertEqual(whole.value(.tokenEntropyBPB), r.entropyBits / Double(x.pixels.count))
    }

    func testTokenStreamMeterEqualsTheOneCallCoder() {
        let t = tokens(6, rows: 5, cols: 3, S: 1, V: 1 << 10)
        for context in TokenContext.allCases {
            var m = TokenStreamMeter(totalTokens: t.words.count, rows: 5, cols: 3, log2V: 10, context: context)
            for part in [0..<1, 1..<4, 4..<6] { m.consume(t.images(part).words) }
            XCTAssertEqual(m.finish(), TokenStreamCoder.codedBits(tokens: t.words, rows: 5, cols: 3, images: 6, log2V: 10, context: context))
        }
    }

    func testDataRateInChunksEqualsOneCall() throws {
        let x = images(5, c: 3, h: 20, w: 12)
        let whole = try DataRate.measure(x, coders: [.tokbenchCold, .png])
        let a = DataRateAccumulator(coders: [.tokbenchCold, .png])
        try a.consume(x.slice(0..<2)); try a.consume(x.slice(2..<5))
        XCTAssertEqual(a.measurements.map(\.bits), whole.map(\.bits))
        XCTAssertEqual(a.measurements.map(\.bytes), whole.map(\.bytes))
        // Each image is one file: the sum of the images coded one by one.
        let one = try (0..<5).map { try DataRate.measure(x.slice($0..<($0 + 1)), coders: [.tokbenchCold])[0].bits }
        XCTAssertEqual(one.reduce(0, +), whole[0].bits)
    }

    func testDistinctTokensOfAStreamWithoutTokensIsAbsent() throws {
        let x = images(2, c: 1, h: 8, w: 8)
        let r = try streamed(x, x, nil, log2V: nil, chunks: [1, 1])
        XCTAssertNil(r.value(.distinctTokens))
        XCTAssertNil(r.value(.tokenRateBPB))
        XCTAssertEqual(r.value(.lossless), 1)
        XCTAssertEqual(r.value(.evalImages), 2)
    }
}

/// SplitMix64, local to the tests.
struct SplitMix64Test {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
