import XCTest
@testable import Datasets

final class IDXTests: XCTestCase {
    func fixture(_ name: String) -> String { Bundle.module.path(forResource: "Fixtures/" + name, ofType: nil)! }

    func testReadsPlainAndGzip() throws {
        for name in ["tiny-images-idx3-ubyte", "tiny-images-idx3-ubyte.gz"] {
            let b = try readIDXImages(path: fixture(name))
            XCTAssertEqual([b.count, b.channels, b.height, b.width], [2, 1, 3, 4])
            XCTAssertEqual(b.pixels, (0..<24).map(UInt8.init))
        }
        XCTAssertEqual(try readIDXImages(path: fixture("tiny-images-idx3-ubyte.gz"), limit: 1).pixels, (0..<12).map(UInt8.init))
    }

    func testWrongMagicNumber() {
        XCTAssertThrowsError(try readIDXImages(path: fixture("badmagic-idx3-ubyte"))) { e in
            XCTAssertTrue(String(describing: e).contains("bad IDX magic number 0x801"), String(describing: e))
        }
    }

    func testTruncated() {
        XCTAssertThrowsError(try readIDXImages(path: fixture("short-idx3-ubyte"))) { e in
            XCTAssertTrue(String(describing: e).contains("truncated"), String(describing: e))
        }
        XCTAssertThrowsError(try parseIDXImages([0, 0, 8], path: "x")) { e in
            XCTAssertTrue(String(describing: e).contains("too short"))
        }
    }
}
