import XCTest
@testable import Experiments

/// The hand-written SHA-256 (kept instead of swift-crypto, whose BoringSSL build adds 1–1.5 min to every
/// clean build; ARCHITECTURE.md) against the FIPS 180-4 / NIST example vectors.
final class SHA256Tests: XCTestCase {
    func testNISTVectors() {
        XCTAssertEqual(sha256Hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(sha256Hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(sha256Hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")   // two blocks after padding
        XCTAssertEqual(sha256Hex([UInt8](repeating: 0x61, count: 1_000_000)), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testIncrementalEqualsOneCall() {
        // Pieces that straddle, fill and skip block boundaries give the one-call digest.
        let message = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        for sizes in [[1], [63], [64], [65], [1000], [3, 61, 64, 1, 127]] {
            var h = SHA256Hasher(), at = 0, k = 0
            while at < message.count {
                let n = min(sizes[k % sizes.count], message.count - at)
                h.update(Array(message[at..<(at + n)])); at += n; k += 1
            }
            XCTAssertEqual(h.finishHex(), sha256Hex(message), "pieces \(sizes)")
        }
        var a = SHA256Hasher()
        for _ in 0..<1000 { a.update([UInt8](repeating: 0x61, count: 1000)) }
        XCTAssertEqual(a.finishHex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
