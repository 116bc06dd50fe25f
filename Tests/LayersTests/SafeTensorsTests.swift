import XCTest
import Foundation
@testable import Kernels
@testable import Layers

final class SafeTensorsTests: XCTestCase {
    func sampleTensors() -> [SafeTensor] {
        let special: [Float] = [0, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
                                Float(bitPattern: 0x7FC0_1234), 1.0 / 3.0]
        var rng = SplitMix64(seed: 1)
        return [SafeTensor(name: "a.weight", shape: [2, 4], values: special),
                SafeTensor(name: "b", shape: [3, 1, 5], values: (0..<15).map { _ in rng.uniform(-1, 1) }),
                SafeTensor(name: "scalar", shape: [], values: [42]),
                SafeTensor(name: "empty", shape: [0, 3], values: [])]
    }

    func testRoundTripIsBitExact() throws {
        let tensors = sampleTensors()
        let data = try SafeTensors.encode(tensors, metadata: ["format": "pt", "step": "12", "quote": "a\"b\\c"])
        let (back, meta) = try SafeTensors.decode(data)
        XCTAssertEqual(meta, ["format": "pt", "step": "12", "quote": "a\"b\\c"])
        XCTAssertEqual(Set(back.map(\.name)), Set(tensors.map(\.name)))
        for t in tensors {
            let b = back.first { $0.name == t.name }!
            XCTAssertEqual(b.shape, t.shape)
            XCTAssertEqual(b.values.map(\.bitPattern), t.values.map(\.bitPattern), t.name)
        }
    }

    func testHeaderIsValidJSONWithOffsets() throws {
        let tensors = sampleTensors()
        let data = try SafeTensors.encode(tensors, metadata: ["k": "v"])
        let bytes = [UInt8](data)
        var n = 0
        for i in 0..<8 { n |= Int(bytes[i]) << (8 * i) }
        XCTAssertEqual(n % 8, 0)
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as? [String: Any])
        XCTAssertEqual(header["__metadata__"] as? [String: String], ["k": "v"])
        var expectedBegin = 0
        for t in tensors {
            let e = try XCTUnwrap(header[t.name] as? [String: Any])
            XCTAssertEqual(e["dtype"] as? String, "F32")
            XCTAssertEqual((e["shape"] as? [Int]), t.shape)
            let off = try XCTUnwrap(e["data_offsets"] as? [Int])
            XCTAssertEqual(off, [expectedBegin, expectedBegin + 4 * t.values.count])
            // raw little-endian data at the offsets
            for (i, v) in t.values.enumerated() {
                let o = 8 + n + off[0] + 4 * i
                let bits = UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24
                XCTAssertEqual(bits, v.bitPattern)
            }
            expectedBegin += 4 * t.values.count
        }
        XCTAssertEqual(bytes.count, 8 + n + expectedBegin)
    }

    func testTruncatedAndCorruptFilesThrow() throws {
        let data = try SafeTensors.encode(sampleTensors())
        // Every truncation point throws (never crashes).
        for cut in stride(from: 0, to: data.count, by: 3) {
            XCTAssertThrowsError(try SafeTensors.decode(data.prefix(cut)), "cut at \(cut)")
        }
        XCTAssertThrowsError(try SafeTensors.decode(data.dropLast())) { error in
            XCTAssertEqual(error as? SafeTensorsError, .truncated("data section has \(data.count - 8 - headerLength(data) - 1) bytes, header needs \(data.count - 8 - headerLength(data))"))
        }
        // Absurd header length, corrupt JSON, wrong dtype, overlapping offsets, trailing bytes.
        var huge = data; huge[7] = 0x7F
        XCTAssertThrowsError(try SafeTensors.decode(huge))
        var garbage = data; garbage[8] = UInt8(ascii: "[")
        XCTAssertThrowsError(try SafeTensors.decode(garbage))
        XCTAssertThrowsError(try SafeTensors.decode(make(#"{"x":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}"#, data: 2))) {
            XCTAssertEqual($0 as? SafeTensorsError, .unsupportedDType(tensor: "x", dtype: "F16"))
        }
        XCTAssertThrowsError(try SafeTensors.decode(make(#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: 8)))
        XCTAssertThrowsError(try SafeTensors.decode(make(#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: 8)))
        XCTAssertThrowsError(try SafeTensors.decode(make(#"{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: 4)))
        XCTAssertThrowsError(try SafeTensors.decode(make(#"{"x":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, data: 4)))
        XCTAssertThrowsError(try SafeTensors.decode(make(#"{"x":{"dtype":"F32","shape":[2]}}"#, data: 8)))
        XCTAssertNoThrow(try SafeTensors.decode(make(#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: 8)))
    }

    func testParameterSetSaveLoad() throws {
        let ps = ParameterSet(seed: 1)
        _ = Conv2d(2, 3, kernel: 3, params: ps, name: "encoder.0")
        _ = Linear(4, 2, params: ps, name: "head")
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tokbench-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try ps.save(to: url, metadata: ["config": "{}"])
        let other = ParameterSet(seed: 2)
        _ = Conv2d(2, 3, kernel: 3, params: other, name: "encoder.0")
        _ = Linear(4, 2, params: other, name: "head")
        XCTAssertNotEqual(other.values.values, ps.values.values)
        XCTAssertEqual(try other.load(from: url), ["config": "{}"])
        XCTAssertEqual(other.values.values.map(\.bitPattern), ps.values.values.map(\.bitPattern))
        let wrong = ParameterSet(seed: 0)
        _ = Conv2d(2, 4, kernel: 3, params: wrong, name: "encoder.0")
        XCTAssertThrowsError(try wrong.load(from: url))
    }

    private func headerLength(_ data: Data) -> Int {
        let b = [UInt8](data); var n = 0
        for i in 0..<8 { n |= Int(b[i]) << (8 * i) }
        return n
    }

    private func make(_ json: String, data: Int) -> Data {
        var out = Data()
        var n = UInt64(json.utf8.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(contentsOf: Array(json.utf8))
        out.append(contentsOf: [UInt8](repeating: 0, count: data))
        return out
    }
}
