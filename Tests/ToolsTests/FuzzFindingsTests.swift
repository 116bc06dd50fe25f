import XCTest
import Foundation
@testable import Tools

/// Every fuzzer finding kept in Tests/Corpus/findings (scripts/fuzz.sh puts them there) is replayed:
/// the inspector describes it or throws a one-line error naming it, and the process does not crash.
final class FuzzFindingsTests: XCTestCase {
    var findings: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Corpus/findings").path
    }

    func testFuzzFindingsNeverCrash() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: findings).filter { !$0.hasSuffix(".md") }.sorted()
        // The folder holds real finds (the first: a 46000²-class PNG header whose pixel count overflowed in the
        // size-cap message, found by the image-cap target), so this loop is never vacuous.
        XCTAssertFalse(files.isEmpty, "no fuzzer findings to replay in \(findings)")
        for f in files {
            do { _ = try FileInspector.describe(findings + "/" + f) } catch {
                let msg = String(describing: error)
                XCTAssertFalse(msg.contains("\n"), "\(f): \(msg)")
                XCTAssertTrue(msg.contains(f), "\(f): error does not name the file: \(msg)")
            }
        }
    }

    func testTokenStreamsAreInspected() throws {
        // The `.tokens` kind the fuzz script names token-stream findings by: garbage is a one-line error.
        let path = NSTemporaryDirectory() + "/garbage-\(getpid()).tokens"
        try Data([0xFF, 0x00, 0x13]).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try FileInspector.describe(path)) { e in
            XCTAssertTrue(String(describing: e).contains("token stream"), String(describing: e))
        }
    }
}
