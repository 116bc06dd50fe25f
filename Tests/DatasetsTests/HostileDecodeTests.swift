import XCTest
import Foundation
import CZlib
@testable import Datasets

/// Decoders bounded by what the caller needs: headers are checked before anything is inflated or decoded.
final class HostileDecodeTests: XCTestCase {
    func tmp(_ name: String) -> String { NSTemporaryDirectory() + "tokbench-hostile-\(UUID().uuidString)-" + name }

    /// A real deflate stream of `size` zero bytes after an .npy header, stored as one zip entry (zip64 sizes).
    func bomb(path: String, key: String, descr: String, shape: [Int], dataBytes: Int) throws {
        let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var h = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(dims)), }"
        while (11 + h.utf8.count) % 64 != 0 { h += " " }
        h += "\n"
        let header: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(h.utf8.count & 0xFF), UInt8(h.utf8.count >> 8)] + Array(h.utf8)
        // deflate: the header, then zeros
        var stream = z_stream()
        XCTAssertEqual(deflateInit2_(&stream, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)), Z_OK)
        var out: [UInt8] = []
        var crc: uLong = 0
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        func feed(_ input: [UInt8], finish: Bool) {
            var input = input
            crc = input.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, uInt($0.count)) }
            input.withUnsafeMutableBufferPointer { inp in
                stream.next_in = inp.baseAddress; stream.avail_in = uInt(inp.count)
                repeat {
                    buf.withUnsafeMutableBufferPointer { o in
                        stream.next_out = o.baseAddress; stream.avail_out = uInt(o.count)
                        _ = deflate(&stream, finish ? Z_FINISH : Z_NO_FLUSH)
                        out += o.prefix(o.count - Int(stream.avail_out))
                    }
                } while stream.avail_out == 0 || (finish && stream.avail_in > 0)
            }
        }
        feed(header, finish: false)
        let chunk = [UInt8](repeating: 0, count: 1 << 20)
        for i in 0..<(dataBytes >> 20) { feed(chunk, finish: i == (dataBytes >> 20) - 1) }
        deflateEnd(&stream)
        let total = header.count + dataBytes
        func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        let name = Array((key + ".npy").utf8)
        let extra = le(1, 2) + le(16, 2) + le(total, 8) + le(out.count, 8)
        let c = Int(UInt32(truncatingIfNeeded: crc))
        let local = le(0x04034b50, 4) + le(45, 2) + le(0, 2) + le(8, 2) + le(0, 4) + le(c, 4) + le(0xFFFF_FFFF, 4) + le(0xFFFF_FFFF, 4) + le(name.count, 2) + le(extra.count, 2) + name + extra
        let central = le(0x02014b50, 4) + le(45, 2) + le(45, 2) + le(0, 2) + le(8, 2) + le(0, 4) + le(c, 4) + le(0xFFFF_FFFF, 4) + le(0xFFFF_FFFF, 4)
            + le(name.count, 2) + le(extra.count, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4) + name + extra
        let body = local + out
        let end = le(0x06054b50, 4) + le(0, 2) + le(0, 2) + le(1, 2) + le(1, 2) + le(central.count, 4) + le(body.count, 4) + le(0, 2)
        try Data(body + central + end).write(to: URL(fileURLWithPath: path))
    }

    /// 256 MiB of declared uint8 tokens in a ~250 KB file: the caller's shape check refuses it before the
    /// entry is inflated (the check runs on the header alone), and peak memory stays small.
    func testNPZBombIsRefusedFromItsHeader() throws {
        let path = tmp("bomb.npz"); defer { try? FileManager.default.removeItem(atPath: path) }
        try bomb(path: path, key: "tokens", descr: "|u1", shape: [4, 64 << 20], dataBytes: 256 << 20)
        XCTAssertLessThan(try Data(contentsOf: URL(fileURLWithPath: path)).count, 2 << 20)
        var sawHeader = false
        XCTAssertThrowsError(try readNPZNumeric(path: path, key: "tokens") { h in
            sawHeader = true
            XCTAssertEqual(h.shape, [4, 64 << 20])
            guard try h.elementCount(path: path, name: "tokens") <= 4096 else { throw DatasetError(path, "too many tokens") }
        }) { XCTAssertTrue("\($0)".contains("too many tokens"), "\($0)") }
        XCTAssertTrue(sawHeader)
        // Without a caller's check, the archive-wide cap still applies to the declared size.
        XCTAssertLessThan(256 << 20, NPZLimits.maxBytes)
        // ImageNet's loader checks (N, 3·r²) first.
        let data = tmp("data.npz"); defer { try? FileManager.default.removeItem(atPath: data) }
        try bomb(path: data, key: "data", descr: "|u1", shape: [1, 64 << 20], dataBytes: 64 << 20)
        XCTAssertThrowsError(try readImageNetNPZ(path: data)) { XCTAssertTrue("\($0)".contains("has shape (1, 67108864), expected (N, 12288)"), "\($0)") }
    }

    /// An entry whose zip size disagrees with its header's shape is refused before inflating.
    func testNPZSizeMustMatchTheHeader() throws {
        let path = tmp("lie.npz"); defer { try? FileManager.default.removeItem(atPath: path) }
        try bomb(path: path, key: "tokens", descr: "<i8", shape: [2, 3], dataBytes: 1 << 20)
        XCTAssertThrowsError(try readNPZNumeric(path: path, key: "tokens")) { XCTAssertTrue("\($0)".contains("needs 48 bytes of '<i8', the entry holds 1048576"), "\($0)") }
    }

    /// PNG and JPEG sizes are checked from the header, against the caller's expectation and the pixel cap.
    func testImageSizeIsCheckedBeforeDecoding() throws {
        // a 46,000² PNG header with almost no data
        func chunk(_ t: String, _ d: [UInt8]) -> [UInt8] {
            func be(_ v: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> $0) } }
            let td = Array(t.utf8) + d
            return be(d.count) + td + be(Int(td.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }))
        }
        func be32(_ v: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> $0) } }
        let png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", be32(46000) + be32(46000) + [8, 0, 0, 0, 0]) + chunk("IEND", [])
        XCTAssertThrowsError(try decodePNG(png, path: "huge.png")) { XCTAssertTrue("\($0)".contains("is 46000x46000 = 2116000000 pixels, above the limit of 50000000"), "\($0)") }
        let small = try encodePNG(ImageBatch(count: 1, channels: 1, height: 8, width: 8))
        XCTAssertThrowsError(try decodePNG(small, path: "s.png", expect: (16, 16))) { XCTAssertEqual("\($0)", "s.png: is 8x8, expected 16x16") }
        XCTAssertThrowsError(try decodePNG(small, path: "s.png", maxPixels: 63)) { XCTAssertTrue("\($0)".contains("above the limit of 63")) }
        XCTAssertEqual(try decodePNG(small, path: "s.png", expect: (8, 8), maxPixels: 64).width, 8)
    }

    /// A palette PNG with transparency (tRNS) decodes to RGB, alpha dropped.
    func testPalettePNGWithTransparency() throws {
        func chunk(_ t: String, _ d: [UInt8]) -> [UInt8] {
            func be(_ v: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> $0) } }
            let td = Array(t.utf8) + d
            return be(d.count) + td + be(Int(td.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }))
        }
        var raw: [UInt8] = []
        for y in 0..<2 { raw += [0] + (0..<2).map { UInt8(($0 + y) % 2) } }
        var dest = [UInt8](repeating: 0, count: 256); var destLen = uLongf(256)
        XCTAssertEqual(compress(&dest, &destLen, raw, uLong(raw.count)), Z_OK)
        let png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", [0, 0, 0, 2, 0, 0, 0, 2, 8, 3, 0, 0, 0])
            + chunk("PLTE", [255, 0, 0, 0, 255, 0]) + chunk("tRNS", [0, 255]) + chunk("IDAT", Array(dest.prefix(Int(destLen)))) + chunk("IEND", [])
        let b = try decodePNG(png, path: "p.png")
        XCTAssertEqual(b.channels, 3)
        XCTAssertEqual(b.interleaved(0), [255, 0, 0, 0, 255, 0, 0, 255, 0, 255, 0, 0])
    }

    /// A uint64 value above the int64 range is named as written, not as a negative number.
    func testUInt64AboveInt64IsNamed() throws {
        var h = "{'descr': '<u8', 'fortran_order': False, 'shape': (2,), }"
        while (11 + h.utf8.count) % 64 != 0 { h += " " }
        h += "\n"
        let bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(h.utf8.count), 0] + Array(h.utf8) + [5, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0xFF, count: 8)
        XCTAssertThrowsError(try decodeNPY(bytes, path: "t.npy", name: "tokens")) {
            XCTAssertEqual("\($0)", "t.npy: array 'tokens' holds the uint64 value 18446744073709551615 at flat index 1, above the int64 range")
        }
    }

    /// A symlink loop and a name that is not UTF-8 are said as such, not as "no such file".
    func testMissingFileReasons() throws {
        let a = tmp("a.png"), b = tmp("b.png")
        defer { unlink(a); unlink(b) }
        symlink(b, a); symlink(a, b)
        XCTAssertThrowsError(try readImage(path: a)) { XCTAssertTrue("\($0)".contains("symlink loop"), "\($0)") }
        XCTAssertThrowsError(try readImage(path: "/tmp/bad-\u{FFFD}.png")) { XCTAssertTrue("\($0)".contains("not valid UTF-8"), "\($0)") }
    }
}
