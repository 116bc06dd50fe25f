import XCTest
import Foundation
@testable import Datasets

/// The .npy writer and the numeric reader of the external-tokenizer protocol.
final class NPYTests: XCTestCase {
    func testUInt8RoundTripAndHeaderAlignment() throws {
        let values: [UInt8] = (0..<24).map { UInt8($0 * 10) }
        let bytes = encodeNPY(uint8: values, shape: [2, 3, 4, 1])
        XCTAssertEqual(Array(bytes.prefix(8)), [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0, "data must start 64-byte aligned")
        let a = try decodeNPY(bytes, path: "t.npy", name: "t")
        XCTAssertEqual(a.shape, [2, 3, 4, 1])
        XCTAssertEqual(a.integers, values.map(Int64.init))
        XCTAssertEqual(try decodeNPY(encodeNPY(uint8: [7], shape: [1]), path: "t", name: "t").shape, [1])
    }

    /// Hand-built arrays of every supported dtype decode to their values; unsupported ones are one-line errors.
    func testDtypes() throws {
        func npy(_ descr: String, _ shape: String, _ data: [UInt8]) -> [UInt8] {
            var h = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
            while (10 + h.utf8.count + 1) % 64 != 0 { h += " " }
            h += "\n"
            return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(h.utf8.count), 0] + Array(h.utf8) + data
        }
        XCTAssertEqual(try decodeNPY(npy("<i8", "(2,)", [5, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]), path: "p", name: "t").integers, [5, -1])
        XCTAssertEqual(try decodeNPY(npy("<i4", "(1,)", [0x00, 0x01, 0x00, 0x00]), path: "p", name: "t").integers, [256])
        XCTAssertEqual(try decodeNPY(npy("<u2", "(1,)", [0xFF, 0xFF]), path: "p", name: "t").integers, [65535])
        XCTAssertEqual(try decodeNPY(npy("<f8", "()", Array(withUnsafeBytes(of: 0.125.bitPattern.littleEndian) { Array($0) })), path: "p", name: "t").doubles, [0.125])
        XCTAssertEqual(try decodeNPY(npy("<f4", "()", Array(withUnsafeBytes(of: Float(1.5).bitPattern.littleEndian) { Array($0) })), path: "p", name: "t").doubles, [1.5])
        XCTAssertEqual(try decodeNPY(npy("|b1", "(2,)", [1, 0]), path: "p", name: "t").integers, [1, 0])
        XCTAssertThrowsError(try decodeNPY(npy(">i4", "(1,)", [0, 0, 0, 1]), path: "p", name: "t")) { e in
            XCTAssertTrue(String(describing: e).contains("dtype '>i4'"), "\(e)")
        }
        XCTAssertThrowsError(try decodeNPY(npy("<i8", "(3,)", [0, 0, 0, 0, 0, 0, 0, 0]), path: "p", name: "t")) { e in
            XCTAssertTrue(String(describing: e).contains("needs 24 bytes"), "\(e)")
        }
        XCTAssertThrowsError(try decodeNPY(npy("<U4", "(1,)", [0, 0, 0, 0]), path: "p", name: "t"))
    }
}
