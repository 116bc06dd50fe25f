import XCTest
import Kernels
import Foundation
import Coding
import Datasets
@testable import Harness

/// Every file of Tests/Corpus/malformed is rejected with a one-line error naming it; truncations
/// and bit flips of real lossless streams are errors too (never a crash).
final class CorpusTests: XCTestCase {
    var corpus: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Corpus/malformed").path
    }

    func testMalformedCorpusGivesOneLineErrors() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: corpus).sorted()
        XCTAssertGreaterThanOrEqual(files.count, 30)
        for f in files {
            let path = corpus + "/" + f
            XCTAssertThrowsError(try FileInspector.describe(path), f) { e in
                let msg = String(describing: e)
                XCTAssertFalse(msg.contains("\n"), "\(f): \(msg)")
                XCTAssertTrue(msg.contains(f), "\(f): error does not name the file: \(msg)")
            }
        }
    }

    func testDamagedLosslessStreamsAreErrors() throws {
        var rng = SplitMix64(seed: 5)
        let pixels = (0..<(12 * 9 * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next() % 64 + 96) }
        let good = LosslessImageCoder.encode(pixels: pixels, width: 12, height: 9, channels: 3)
        XCTAssertEqual(try LosslessImageCoder.decode(good).pixels, pixels)
        for cut in [0, 1, 2, good.count / 2, good.count - 1] {
            XCTAssertThrowsError(try LosslessImageCoder.decode(Array(good.prefix(cut))), "cut at \(cut)")
        }
        var caught = 0
        for i in stride(from: 1, to: good.count, by: 9) {
            var bad = good
            bad[i] ^= 0x10
            if (try? LosslessImageCoder.decode(bad))?.pixels != pixels { caught += 1 }   // error or different image, never a crash
        }
        XCTAssertGreaterThan(caught, 0)
    }
}
