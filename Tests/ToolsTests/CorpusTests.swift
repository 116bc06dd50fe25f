import XCTest
import Kernels
import Foundation
import Coding
import Datasets
@testable import Tools

/// Every file of Tests/Corpus/malformed is rejected with a one-line error naming it; truncations
/// and bit flips of real lossless streams are errors too (never a crash, never a silent success).
final class CorpusTests: XCTestCase {
    var corpusRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Corpus")
    }
    var corpus: String { corpusRoot.appendingPathComponent("malformed").path }

    /// The file names make_corpus.py writes (its `w("name", …)` calls).
    func namesWrittenByGenerator() throws -> [String] {
        let script = try String(contentsOf: corpusRoot.appendingPathComponent("make_corpus.py"), encoding: .utf8)
        var names: [String] = []
        for part in script.components(separatedBy: "w(\"").dropFirst() {
            if let end = part.firstIndex(of: "\"") { names.append(String(part[..<end])) }
        }
        return names.sorted()
    }

    func testMalformedCorpusGivesOneLineErrors() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: corpus).sorted()
        // Exactly the generator's files: a missing (or stray) file is a failure, not a smaller test.
        let expected = try namesWrittenByGenerator()
        XCTAssertGreaterThanOrEqual(expected.count, 40)
        XCTAssertEqual(files, expected)
        var rejected = 0
        for f in files {
            let path = corpus + "/" + f
            do {
                let described = try FileInspector.describe(path)
                XCTFail("\(f): accepted as \(described)")
            } catch {
                rejected += 1
                let msg = String(describing: error)
                XCTAssertFalse(msg.contains("\n"), "\(f): \(msg)")
                XCTAssertTrue(msg.contains(f), "\(f): error does not name the file: \(msg)")
            }
        }
        XCTAssertEqual(rejected, files.count)
    }

    /// Bytes after a lossless stream's header (1 byte, + width and height varints when explicit).
    static func body(_ s: [UInt8]) -> [UInt8] {
        var pos = 1
        if let h0 = s.first, h0 & 3 == 0 {
            for _ in 0..<2 {
                while pos < s.count && s[pos] >= 128 { pos += 1 }
                pos += 1
            }
        }
        return Array(s.dropFirst(min(pos, s.count)))
    }

    func testDamagedLosslessStreamsAreErrors() throws {
        var rng = SplitMix64(seed: 5)
        let pixels = (0..<(12 * 9 * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next() % 64 + 96) }
        let good = LosslessImageCoder.encode(pixels: pixels, width: 12, height: 9, channels: 3)
        XCTAssertEqual(try LosslessImageCoder.decode(good).pixels, pixels)
        for cut in [0, 1, 2, good.count / 2, good.count - 1] {
            XCTAssertThrowsError(try LosslessImageCoder.decode(Array(good.prefix(cut))), "cut at \(cut)") { e in
                XCTAssertTrue(e is CodingError, "cut at \(cut): \(e)")
            }
        }
        // Every flip, one by one. The decoder checks the stream end and an 8-bit hash of the pixels,
        // which is not a CRC, so "always throws" is not its contract; what is: a damaged stream is
        // rejected with a CodingError, or it decodes to a *different* image of which it is exactly
        // the encoding (the arithmetic decoder pins every byte it shifts out, the flush byte and the
        // hash, so it cannot accept anything else). A flip that decodes to the original image, or to
        // an image whose encoding is not the damaged stream, is a hidden corruption and fails here.
        // (Today all 32 flips below are rejected; checked with a Python port of the coder.)
        var flips = 0
        for i in stride(from: 1, to: good.count, by: 9) {
            var bad = good
            bad[i] ^= 0x10
            flips += 1
            do {
                let img = try LosslessImageCoder.decode(bad)
                XCTAssertNotEqual(img.pixels, pixels, "flip at \(i) decoded silently to the original image")
                XCTAssertEqual(img.pixels.count, img.width * img.height * img.channels, "flip at \(i)")
                if img.pixels.count == img.width * img.height * img.channels, img.width > 0, img.height > 0,
                   img.channels == 1 || img.channels == 3 {
                    let again = LosslessImageCoder.encode(pixels: img.pixels, width: img.width, height: img.height, channels: img.channels,
                                                          model: bad[0] & 8 != 0 ? .fitted : .coldStart)
                    XCTAssertEqual(Self.body(again), Self.body(bad), "flip at \(i): accepted a stream that is not the encoding of what it returned")
                }
            } catch {
                XCTAssertTrue(error is CodingError, "flip at \(i): \(error)")
            }
        }
        XCTAssertGreaterThanOrEqual(flips, 30)
    }
}
