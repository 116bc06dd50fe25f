import XCTest
@testable import Datasets

final class PNGTests: XCTestCase {
    func fixture(_ name: String) -> String { Bundle.module.path(forResource: "Fixtures/" + name, ofType: nil)! }

    // The fixtures are 5×3; values written by Tests/DatasetsTests/Fixtures/make_fixtures.py.
    let W = 5, H = 3
    func gray(_ x: Int, _ y: Int) -> UInt8 { UInt8((x * 50 + y * 7) % 256) }
    func rgb(_ x: Int, _ y: Int) -> [UInt8] {
        [UInt8((x * 40 + y * 9) % 256), UInt8((255 - x * 30 - y * 11 + 512) % 256), UInt8((x * y * 17 + 3) % 256)]
    }
    let palette: [[UInt8]] = [[10, 20, 30], [200, 100, 50], [0, 255, 0], [255, 255, 255]]

    func check(_ img: ImageBatch, channels: Int, _ expected: (Int, Int, Int) -> UInt8, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(img.count, 1, file: file, line: line)
        XCTAssertEqual(img.channels, channels, file: file, line: line)
        XCTAssertEqual(img.height, H, file: file, line: line)
        XCTAssertEqual(img.width, W, file: file, line: line)
        for c in 0..<channels { for y in 0..<H { for x in 0..<W {
            XCTAssertEqual(img.pixels[(c * H + y) * W + x], expected(c, x, y), "c\(c) x\(x) y\(y)", file: file, line: line)
        } } }
    }

    func testGray8And16AndInterlaced() throws {
        for name in ["gray8.png", "gray16.png", "gray16_interlaced.png", "graya8.png"] {
            check(try readPNG(path: fixture(name)), channels: 1) { _, x, y in self.gray(x, y) }
        }
    }

    func testLowBitDepthGrayIsScaledToFullRange() throws {
        for bits in [1, 2, 4] {
            let maxv = (1 << bits) - 1
            check(try readPNG(path: fixture("gray\(bits).png")), channels: 1) { _, x, y in UInt8(((x + y) % (maxv + 1)) * 255 / maxv) }
        }
    }

    func testRGBVariantsAlphaDropped() throws {
        for name in ["rgb8.png", "rgb16.png", "rgba8.png", "rgb8_interlaced.png"] {
            check(try readPNG(path: fixture(name)), channels: 3) { c, x, y in self.rgb(x, y)[c] }
        }
    }

    func testPaletteExpandsToRGB() throws {
        for name in ["palette8.png", "palette2.png"] {
            check(try readPNG(path: fixture(name)), channels: 3) { c, x, y in self.palette[(x + 2 * y) % 4][c] }
        }
    }

    func testTruncatedAndNonPNGAreClearErrors() {
        XCTAssertThrowsError(try readPNG(path: fixture("truncated.png"))) { e in
            let msg = String(describing: e)
            XCTAssertTrue(msg.contains("truncated.png") && msg.contains("PNG"), msg)
            XCTAssertFalse(msg.contains("\n"))
        }
        XCTAssertThrowsError(try readPNG(path: fixture("not_a_png.png"))) { e in
            XCTAssertTrue(String(describing: e).contains("not a PNG"), String(describing: e))
        }
        XCTAssertThrowsError(try readPNG(path: "/nonexistent/x.png")) { e in
            XCTAssertEqual(String(describing: e), "/nonexistent/x.png: no such file")
        }
    }

    func testEncodeDecodeRoundTrip() throws {
        let img = try readPNG(path: fixture("rgb8.png"))
        XCTAssertEqual(try decodePNG(try encodePNG(img), path: "mem"), img)
        let g = try readPNG(path: fixture("gray8.png"))
        XCTAssertEqual(try decodePNG(try encodePNG(g, level: 0), path: "mem"), g)
    }
}
