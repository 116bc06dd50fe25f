// NumPy arrays of any common numeric dtype, for the external-tokenizer protocol and `tokbench eval`:
// read one array of an .npz archive or a standalone .npy file, write a uint8 .npy file.
// Supported dtypes (little-endian or single byte): u1 i1 u2 i2 u4 i4 u8 i8 f4 f8 and b1 (bool).
import Foundation

/// A numeric array: its shape, dtype and values (integers exactly, floats as Double).
public struct NumericArray: Sendable, Equatable {
    public enum Values: Sendable, Equatable { case integers([Int64]), floats([Double]) }
    public var shape: [Int]
    public var dtype: String          // the .npy descr, e.g. "<i8"
    public var values: Values
    public var count: Int { shape.reduce(1, *) }
    public var isInteger: Bool { if case .integers = values { return true }; return false }
    /// The values as integers (nil for a float array).
    public var integers: [Int64]? { if case .integers(let v) = values { return v }; return nil }
    /// The values as Doubles (integers converted).
    public var doubles: [Double] {
        switch values { case .floats(let v): return v; case .integers(let v): return v.map(Double.init) }
    }
    public init(shape: [Int], dtype: String, values: Values) { self.shape = shape; self.dtype = dtype; self.values = values }
}

/// One array of an .npz archive by key, any supported dtype. `check` sees the array's header (shape,
/// dtype) before the entry is inflated: the caller refuses shapes it cannot use there, so an archive
/// declaring a huge array costs nothing.
public func readNPZNumeric(path: String, key: String, check: (NPYHeader) throws -> Void = { _ in }) throws -> NumericArray {
    try decodeNPY(try npzEntry(path: path, key: key, check: check).data, path: path, name: key)
}

/// A standalone .npy file.
public func readNPYFile(path: String) throws -> NumericArray {
    try decodeNPY(try readFileBytes(path), path: path, name: (path as NSString).lastPathComponent)
}

/// The .npy (version 1.0) header of a C-order array of `descr` ('|u1', '<i4', '<f4') and `shape`, padded so the
/// data starts 64-byte aligned.
public func npyHeader(descr: String, shape: [Int]) -> [UInt8] {
    let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
    var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(dims)), }"
    while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    let n = header.utf8.count
    return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(header.utf8)
}

/// The bytes of an .npy file holding uint8 values of this shape, C order.
public func encodeNPY(uint8 values: [UInt8], shape: [Int]) -> [UInt8] {
    precondition(shape.reduce(1, *) == values.count, "encodeNPY: shape does not match the values")
    return npyHeader(descr: "|u1", shape: shape) + values
}

/// The bytes of an .npy file holding little-endian 32-bit values (int32 or float32 bit patterns) of this shape.
func encodeNPY32(descr: String, _ bits: [UInt32], shape: [Int]) -> [UInt8] {
    precondition(shape.reduce(1, *) == bits.count, "encodeNPY: shape does not match the values")
    var out = npyHeader(descr: descr, shape: shape)
    out.reserveCapacity(out.count + 4 * bits.count)
    for u in bits { out += [UInt8(u & 0xFF), UInt8(u >> 8 & 0xFF), UInt8(u >> 16 & 0xFF), UInt8(u >> 24)] }
    return out
}

/// The bytes of an .npy file holding int32 values of this shape, C order.
public func encodeNPY(int32 values: [Int32], shape: [Int]) -> [UInt8] {
    encodeNPY32(descr: "<i4", values.map { UInt32(bitPattern: $0) }, shape: shape)
}

/// The bytes of an .npy file holding float32 values of this shape, C order.
public func encodeNPY(float32 values: [Float], shape: [Int]) -> [UInt8] {
    encodeNPY32(descr: "<f4", values.map(\.bitPattern), shape: shape)
}

/// An .npy blob → its array. Errors name the file and array and say what is wrong.
func decodeNPY(_ data: [UInt8], path: String, name: String) throws -> NumericArray {
    let h = try parseNPYHeader(data, path: path, name: name)
    let count = try h.elementCount(path: path, name: name)
    var d = h.descr
    if d.count == 3, d.first == "=" { d = "<" + d.dropFirst() }
    if d.count == 2 { d = "|" + d }
    let kind = d.dropFirst().first!, size = Int(String(d.dropFirst(2))) ?? 0
    guard d.first == "<" || d.first == "|", ["u", "i", "f", "b"].contains(kind), [1, 2, 4, 8].contains(size),
          !(kind == "f" && size < 4), !(kind == "b" && size != 1) else {
        throw DatasetError(path, "array '\(name)' has dtype '\(h.descr)', expected a little-endian integer, bool or float type")
    }
    let bytes = data.count - h.dataOffset
    guard bytes == count * size else {
        throw DatasetError(path, "array '\(name)' shape \(pyShape(h.shape)) needs \(count * size) bytes of '\(h.descr)', it holds \(bytes)")
    }
    return try data.withUnsafeBytes { raw -> NumericArray in
        let p = raw.baseAddress!.advanced(by: h.dataOffset)
        func load<T: FixedWidthInteger>(_: T.Type) -> [Int64] {
            (0..<count).map { Int64(truncatingIfNeeded: T(littleEndian: p.loadUnaligned(fromByteOffset: $0 * size, as: T.self))) }
        }
        switch (kind, size) {
        case ("f", 4): return NumericArray(shape: h.shape, dtype: h.descr, values: .floats((0..<count).map {
            Double(Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))) }))
        case ("f", _): return NumericArray(shape: h.shape, dtype: h.descr, values: .floats((0..<count).map {
            Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) }))
        case ("i", 1): return NumericArray(shape: h.shape, dtype: h.descr, values: .integers(load(Int8.self)))
        case ("i", 2): return NumericArray(shape: h.shape, dtype: h.descr, values: .integers(load(Int16.self)))
        case ("i", 4): return NumericArray(shape: h.shape, dtype: h.descr, values: .integers(load(Int32.self)))
        case ("i", _): return NumericArray(shape: h.shape, dtype: h.descr, values: .integers(load(Int64.self)))
        case ("u", 2): return NumericArray(shape: h.shape, dtype: h.descr, values: .integers(load(UInt16.self)))
        case ("u", 4): return NumericArray(shape: h.shape, dtype: h.descr, values: .integers(load(UInt32.self)))
        case ("u", 8):
            // Values ≥ 2^63 have no Int64: refused here, with the value as written.
            for i in 0..<count {
                let v = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
                if v > UInt64(Int64.max) { throw DatasetError(path, "array '\(name)' holds the uint64 value \(v) at flat index \(i), above the int64 range") }
            }
            return NumericArray(shape: h.shape, dtype: h.descr, values: .integers(load(UInt64.self)))
        default: return NumericArray(shape: h.shape, dtype: h.descr, values: .integers(load(UInt8.self)))   // u1, b1
        }
    }
}

extension ImageBatch {
    /// Images from a uint8 array [N, H, W, C] (C = 1 or 3), as the external protocol and `tokbench eval` write them.
    public init(hwc a: NumericArray, path: String, name: String) throws {
        guard a.dtype.hasSuffix("u1"), let v = a.integers, a.shape.count == 4, [1, 3].contains(a.shape[3]) else {
            throw DatasetError(path, "'\(name)' must be uint8 images [N, H, W, C] with C = 1 or 3, got dtype '\(a.dtype)' shape \(a.shape)")
        }
        let (N, H, W, C) = (a.shape[0], a.shape[1], a.shape[2], a.shape[3])
        self.init(count: N, channels: C, height: H, width: W)
        for n in 0..<N { for y in 0..<H { for x in 0..<W { for c in 0..<C {
            pixels[((n * C + c) * H + y) * W + x] = UInt8(truncatingIfNeeded: v[((n * H + y) * W + x) * C + c])
        } } } }
    }
}
