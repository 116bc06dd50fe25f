import XCTest
import Foundation
@testable import Perceptual
import Kernels

/// The restricted unpickler on hostile input: every malformed file is one error line, never a crash, and
/// nothing outside the allow-list is built.
final class PickleTests: XCTestCase {
    func fixture(_ name: String) -> String { Bundle.module.path(forResource: "Fixtures/" + name, ofType: nil)! }

    func testRefusesGlobalsOutsideTheAllowList() {
        // pickle.dumps of os.system's reduce: c os\nsystem\n (S'echo' tR.
        let evil: [UInt8] = Array("cos\nsystem\n(X\u{4}\0\0\0echotR.".utf8)
        XCTAssertThrowsError(try Unpickler.load(evil, path: "evil.pkl")) { e in
            XCTAssertTrue(String(describing: e).contains("refuses the pickle's global os.system"), String(describing: e))
        }
    }

    func testEveryTruncationAndFlipOfARealCheckpointIsOneErrorLine() throws {
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture("lpips-alex-w8.ckpt"))))
        XCTAssertNoThrow(try Unpickler.load(good, path: "alex.ckpt"))
        // Every prefix length over the pickle's structure (the first 4 KB, then sparse).
        var cuts = Array(0..<min(4096, good.count - 1))
        cuts += stride(from: 4096, to: good.count - 1, by: 997)
        for n in cuts {
            XCTAssertThrowsError(try Unpickler.load(Array(good[0..<n]), path: "cut.ckpt")) { e in
                XCTAssertFalse(String(describing: e).contains("\n"))
            }
        }
        // Random byte flips: either a value or a one-line error, never a crash.
        var rng = SplitMix64(seed: 5)
        for _ in 0..<2000 {
            var b = good
            for _ in 0..<(1 + Int(rng.next() % 4)) { b[Int(rng.next() % UInt64(min(b.count, 4096)))] = UInt8(truncatingIfNeeded: rng.next()) }
            do { _ = try Unpickler.load(b, path: "flip.ckpt") } catch { XCTAssertFalse(String(describing: error).contains("\n")) }
        }
    }

    func testMalformedWeightFilesAreOneLine() throws {
        let dir = NSTemporaryDirectory() + "tokbench-weights-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let zip = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture("inception-w16.pt"))))
        var rng = SplitMix64(seed: 9)
        let cases: [(String, [UInt8])] = [("empty", []), ("text", Array("not weights".utf8)), ("truncated zip", Array(zip[0..<(zip.count / 2)])),
                                          ("zip tail", Array(zip[(zip.count - 200)...]))]
            + (0..<40).map { k in
                var b = zip
                for _ in 0..<8 { b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next()) }
                return ("flipped \(k)", b)
            }
        for (name, bytes) in cases {
            let p = dir + "/w.pt"
            try Data(bytes).write(to: URL(fileURLWithPath: p))
            do {
                let f = try WeightFile.load(path: p)
                _ = try InceptionFeatures(file: f)      // a flip inside a float is still a valid file
            } catch {
                let s = String(describing: error)
                XCTAssertFalse(s.contains("\n"), name)
                XCTAssertTrue(s.hasPrefix(p), "\(name): \(s)")
            }
        }
    }

    func testMissingWeightsNameTheFileAndTheCommand() {
        XCTAssertThrowsError(try PerceptualSuite.load([.rfid], folder: "/nonexistent/weights")) { e in
            let s = String(describing: e)
            XCTAssertTrue(s.contains("/nonexistent/weights/default_1.pt") && s.contains("scripts/get-weights.sh"), s)
        }
        XCTAssertNil(try PerceptualSuite.load([], folder: "/nonexistent"))
        XCTAssertThrowsError(try PerceptualMetric.parse(["rfid", "fid"], field: "evaluation.metrics")) { e in
            XCTAssertTrue(String(describing: e).contains("unknown metric \"fid\""))
        }
    }
}
