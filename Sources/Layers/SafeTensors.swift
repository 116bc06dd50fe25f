// safetensors (https://github.com/huggingface/safetensors) writer/reader, F32 only.
// File = 8-byte little-endian header length n, n bytes of JSON
//   {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ..., "__metadata__": {"k": "v"}}
// (padded with spaces to a multiple of 8), then the raw little-endian data; offsets are relative to the
// start of the data. The reader validates everything and throws SafeTensorsError, never traps.
import Foundation
import Kernels

public struct SafeTensor: Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    /// Row-major values, count = product(shape).
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "SafeTensor \(name): \(values.count) values for shape \(shape)")
        self.name = name; self.shape = shape; self.values = values
    }
}

public enum SafeTensorsError: Error, CustomStringConvertible, Equatable {
    case truncated(String)
    case invalidHeader(String)
    case unsupportedDType(tensor: String, dtype: String)
    case invalidOffsets(String)
    case mismatch(String)

    public var description: String {
        switch self {
        case .truncated(let s): return "safetensors: truncated file: \(s)"
        case .invalidHeader(let s): return "safetensors: invalid header: \(s)"
        case .unsupportedDType(let t, let d): return "safetensors: tensor \(t) has dtype \(d); only F32 is supported"
        case .invalidOffsets(let s): return "safetensors: invalid data offsets: \(s)"
        case .mismatch(let s): return "safetensors: \(s)"
        }
    }
}

public enum SafeTensors {
    static let maxHeaderBytes = 100_000_000

    /// Serialises tensors (stored in the given order) and string metadata.
    public static func encode(_ tensors: [SafeTensor], metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        for t in tensors {
            guard t.name != "__metadata__", header[t.name] == nil else {
                throw SafeTensorsError.mismatch("duplicate or reserved tensor name \(t.name)")
            }
            let bytes = t.values.count * 4
            header[t.name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        var n = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(json)
        for t in tensors {
            t.values.withUnsafeBufferPointer { buf in
                if Int(1).littleEndian == 1 {
                    out.append(UnsafeBufferPointer(start: UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: UInt8.self),
                                                   count: buf.count * 4))
                } else {
                    for v in buf { var b = v.bitPattern.littleEndian; withUnsafeBytes(of: &b) { out.append(contentsOf: $0) } }
                }
            }
        }
        return out
    }

    /// Parses and validates a safetensors blob. Tensors are returned in data order.
    public static func decode(_ data: Data) throws -> (tensors: [SafeTensor], metadata: [String: String]) {
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else { throw SafeTensorsError.truncated("\(bytes.count) bytes, need at least 8 for the header length") }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard n <= UInt64(maxHeaderBytes) else { throw SafeTensorsError.invalidHeader("header length \(n) exceeds \(maxHeaderBytes)") }
        let headerLength = Int(n)
        guard 8 + headerLength <= bytes.count else {
            throw SafeTensorsError.truncated("header of \(headerLength) bytes but only \(bytes.count - 8) follow")
        }
        let headerBytes = Data(bytes[8..<(8 + headerLength)])
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: headerBytes) } catch {
            throw SafeTensorsError.invalidHeader("not valid JSON (\(error.localizedDescription))")
        }
        guard let dict = object as? [String: Any] else { throw SafeTensorsError.invalidHeader("top level is not a JSON object") }
        var metadata: [String: String] = [:]
        struct Spec { let name: String; let shape: [Int]; let begin: Int; let end: Int }
        var specs: [Spec] = []
        for (name, value) in dict {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw SafeTensorsError.invalidHeader("__metadata__ is not an object") }
                for (k, v) in m {
                    guard let s = v as? String else { throw SafeTensorsError.invalidHeader("__metadata__[\(k)] is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let entry = value as? [String: Any] else { throw SafeTensorsError.invalidHeader("entry \(name) is not an object") }
            guard let dtype = entry["dtype"] as? String else { throw SafeTensorsError.invalidHeader("entry \(name) has no dtype") }
            guard dtype == "F32" else { throw SafeTensorsError.unsupportedDType(tensor: name, dtype: dtype) }
            guard let shapeAny = entry["shape"] as? [Any], let offsetsAny = entry["data_offsets"] as? [Any], offsetsAny.count == 2 else {
                throw SafeTensorsError.invalidHeader("entry \(name) needs shape and two data_offsets")
            }
            let shape = try shapeAny.map { try nonNegativeInt($0, what: "shape of \(name)") }
            let begin = try nonNegativeInt(offsetsAny[0], what: "data_offsets of \(name)")
            let end = try nonNegativeInt(offsetsAny[1], what: "data_offsets of \(name)")
            var elements = 1
            for d in shape {
                let (p, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow, p <= Int(UInt32.max) * 16 else { throw SafeTensorsError.invalidHeader("shape of \(name) too large") }
                elements = p
            }
            guard end >= begin, end - begin == elements * 4 else {
                throw SafeTensorsError.invalidOffsets("\(name): [\(begin), \(end)) does not hold \(elements) F32 values")
            }
            specs.append(Spec(name: name, shape: shape, begin: begin, end: end))
        }
        specs.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        let dataStart = 8 + headerLength
        let dataLength = bytes.count - dataStart
        var cursor = 0
        for s in specs {
            guard s.begin == cursor else { throw SafeTensorsError.invalidOffsets("\(s.name) starts at \(s.begin), expected \(cursor) (gap or overlap)") }
            cursor = s.end
        }
        if cursor > dataLength { throw SafeTensorsError.truncated("data section has \(dataLength) bytes, header needs \(cursor)") }
        if cursor < dataLength { throw SafeTensorsError.invalidOffsets("\(dataLength - cursor) trailing bytes not covered by any tensor") }
        var tensors: [SafeTensor] = []
        tensors.reserveCapacity(specs.count)
        for s in specs {
            let count = (s.end - s.begin) / 4
            var values = [Float](repeating: 0, count: count)
            let base = dataStart + s.begin
            for i in 0..<count {
                let o = base + 4 * i
                let bits = UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24
                values[i] = Float(bitPattern: bits)
            }
            tensors.append(SafeTensor(name: s.name, shape: s.shape, values: values))
        }
        return (tensors, metadata)
    }

    public static func write(_ tensors: [SafeTensor], metadata: [String: String] = [:], to url: URL) throws {
        try encode(tensors, metadata: metadata).write(to: url, options: .atomic)
    }

    public static func read(from url: URL) throws -> (tensors: [SafeTensor], metadata: [String: String]) {
        try decode(Data(contentsOf: url))
    }

    private static func nonNegativeInt(_ v: Any, what: String) throws -> Int {
        if let n = v as? NSNumber {
            let d = n.doubleValue
            guard d >= 0, d == d.rounded(), d < 9.0e15 else { throw SafeTensorsError.invalidHeader("\(what): \(n) is not a non-negative integer") }
            return Int(d)
        }
        throw SafeTensorsError.invalidHeader("\(what): not a number")
    }
}

extension ParameterSet {
    /// Every registered tensor, by name, in registration (= flat buffer) order.
    public func safeTensors() -> [SafeTensor] {
        entries.map { e in
            SafeTensor(name: e.name, shape: e.shape, values: Array(UnsafeBufferPointer(start: values.data + e.offset, count: e.count)))
        }
    }

    public func save(to url: URL, metadata: [String: String] = [:]) throws {
        try SafeTensors.write(safeTensors(), metadata: metadata, to: url)
    }

    /// Loads every registered tensor from a file; names and shapes must match exactly (extra tensors in the
    /// file, e.g. optimizer state, are ignored). Returns the file's metadata.
    @discardableResult
    public func load(from url: URL) throws -> [String: String] {
        let (tensors, metadata) = try SafeTensors.read(from: url)
        try load(tensors)
        return metadata
    }

    public func load(_ tensors: [SafeTensor]) throws {
        var byName: [String: SafeTensor] = [:]
        for t in tensors { byName[t.name] = t }
        for e in entries {
            guard let t = byName[e.name] else { throw SafeTensorsError.mismatch("missing tensor \(e.name)") }
            guard t.shape == e.shape else { throw SafeTensorsError.mismatch("\(e.name): shape \(t.shape), expected \(e.shape)") }
        }
        for e in entries {
            byName[e.name]!.values.withUnsafeBufferPointer { (values.data + e.offset).update(from: $0.baseAddress!, count: e.count) }
        }
    }
}

extension Adam {
    /// Optimizer state as tensors ("<prefix>.m", "<prefix>.v") plus metadata "<prefix>.step".
    public func stateTensors(prefix: String = "optimizer") -> (tensors: [SafeTensor], metadata: [String: String]) {
        ([SafeTensor(name: "\(prefix).m", shape: [m.count], values: m.values),
          SafeTensor(name: "\(prefix).v", shape: [v.count], values: v.values)],
         ["\(prefix).step": String(step)])
    }

    public func restoreState(tensors: [SafeTensor], metadata: [String: String], prefix: String = "optimizer") throws {
        guard let mt = tensors.first(where: { $0.name == "\(prefix).m" }), mt.values.count == m.count,
              let vt = tensors.first(where: { $0.name == "\(prefix).v" }), vt.values.count == v.count,
              let s = metadata["\(prefix).step"], let t = Int(s), t >= 0
        else { throw SafeTensorsError.mismatch("optimizer state \(prefix) missing or of the wrong size") }
        m.copy(from: mt.values); v.copy(from: vt.values); step = t
    }
}
