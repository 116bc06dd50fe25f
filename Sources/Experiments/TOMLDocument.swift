/// A small TOML reader that remembers the line of every key, so experiment-file errors can
/// name the file, the line and the key. Covers what experiment files use: comments, tables
/// `[a.b]`, arrays of tables `[[a]]`, bare/quoted/dotted keys, basic and literal strings,
/// integers, floats (incl. inf/nan), booleans, (multi-line) arrays and inline tables.
/// Dates and multi-line strings are not supported (an error says so).
public indirect enum TOMLValue: Equatable, Sendable {
    case string(String), integer(Int), float(Double), boolean(Bool), array([TOMLNode]), table(TOMLTable)

    public var typeName: String {
        switch self {
        case .string: return "string"
        case .integer: return "integer"
        case .float: return "float"
        case .boolean: return "boolean"
        case .array: return "array"
        case .table: return "table"
        }
    }
}

/// A value and the line it was written on (1-based).
public struct TOMLNode: Equatable, Sendable {
    public var value: TOMLValue
    public var line: Int
}

/// An ordered table of keys.
public struct TOMLTable: Equatable, Sendable {
    public var entries: [(key: String, node: TOMLNode)] = []
    public var line: Int
    public init(line: Int) { self.line = line }
    public subscript(key: String) -> TOMLNode? {
        get { entries.first { $0.key == key }?.node }
        set {
            if let i = entries.firstIndex(where: { $0.key == key }) {
                if let v = newValue { entries[i].node = v } else { entries.remove(at: i) }
            } else if let v = newValue { entries.append((key, v)) }
        }
    }
    public var keys: [String] { entries.map(\.key) }
    public static func == (a: TOMLTable, b: TOMLTable) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.key == $1.key && $0.node == $1.node }
    }
}

/// A TOML syntax error at a line.
public struct TOMLError: Error, CustomStringConvertible, Equatable {
    public let line: Int
    public let message: String
    public var description: String { "line \(line): \(message)" }
}

public enum TOMLParser {
    public static func parse(_ text: String) throws -> TOMLTable {
        var p = Cursor(bytes: Array(text.utf8))
        return try p.document()
    }

    /// Parses one value written alone (used by `--set key=value`); bare words are strings.
    public static func parseValue(_ text: String) throws -> TOMLValue {
        var p = Cursor(bytes: Array(text.utf8))
        p.skipSpace()
        if let v = try? p.value(), ({ p.skipSpace(); return p.atEnd })() { return v.value }
        return .string(text)
    }

    struct Cursor {
        let bytes: [UInt8]
        var pos = 0
        var line = 1
        var atEnd: Bool { pos >= bytes.count }
        var peek: UInt8? { pos < bytes.count ? bytes[pos] : nil }

        func fail(_ msg: String) -> TOMLError { TOMLError(line: line, message: msg) }

        mutating func skipSpace() { while let c = peek, c == 0x20 || c == 0x09 { pos += 1 } }

        /// Spaces, comments and newlines (inside arrays).
        mutating func skipBlank() {
            while let c = peek {
                if c == 0x20 || c == 0x09 || c == 0x0D { pos += 1 }
                else if c == 0x0A { pos += 1; line += 1 }
                else if c == UInt8(ascii: "#") { while let d = peek, d != 0x0A { pos += 1 } }
                else { break }
            }
        }

        /// After a statement: optional comment, then newline or end.
        mutating func endOfLine() throws {
            skipSpace()
            if peek == UInt8(ascii: "#") { while let d = peek, d != 0x0A { pos += 1 } }
            if peek == 0x0D { pos += 1 }
            if atEnd { return }
            guard peek == 0x0A else { throw fail("unexpected text after value: \"\(restOfLine())\"") }
            pos += 1; line += 1
        }

        func restOfLine() -> String {
            var e = pos
            while e < bytes.count && bytes[e] != 0x0A { e += 1 }
            return String(decoding: bytes[pos..<e], as: UTF8.self)
        }

        mutating func document() throws -> TOMLTable {
            var root = TOMLTable(line: 1)
            var current: [PathStep] = []   // where key/values go
            var defined = Set<String>()    // explicitly defined table headers
            while true {
                skipBlank()
                guard let c = peek else { break }
                if c == UInt8(ascii: "[") {
                    let headerLine = line
                    pos += 1
                    let isArray = peek == UInt8(ascii: "[")
                    if isArray { pos += 1 }
                    skipSpace()
                    let path = try keyPath()
                    skipSpace()
                    guard peek == UInt8(ascii: "]") else { throw fail("expected ] to close the table header") }
                    pos += 1
                    if isArray { guard peek == UInt8(ascii: "]") else { throw fail("expected ]] to close the array-of-tables header") }; pos += 1 }
                    try endOfLine()
                    let name = path.joined(separator: ".")
                    if isArray {
                        current = try Self.appendArrayTable(&root, path, line: headerLine)
                        defined = defined.filter { !$0.hasPrefix(name + ".") }   // [name.sub] tables belong to the new element
                    } else {
                        guard !defined.contains(name) else { throw TOMLError(line: headerLine, message: "table [\(name)] defined twice") }
                        defined.insert(name)
                        current = try Self.ensureTable(&root, path, line: headerLine)
                    }
                } else {
                    let keyLine = line
                    let path = try keyPath()
                    skipSpace()
                    guard peek == UInt8(ascii: "=") else { throw fail("expected = after key \"\(path.joined(separator: "."))\"") }
                    pos += 1
                    skipSpace()
                    let v = try value()
                    try endOfLine()
                    try Self.assign(&root, current, path, TOMLNode(value: v.value, line: keyLine))
                }
            }
            return root
        }

        enum PathStep { case key(String), last(String) }   // .last: last element of an array of tables

        static func ensureTable(_ root: inout TOMLTable, _ path: [String], line: Int) throws -> [PathStep] {
            var steps: [PathStep] = []
            var t = root
            for (i, k) in path.enumerated() {
                let step: PathStep
                switch t[k]?.value {
                case nil: step = .key(k)
                case .table(let sub)?: step = .key(k); t = sub; steps.append(step); continue
                case .array(let arr)? where arr.last.map({ if case .table = $0.value { return true }; return false }) ?? false:
                    step = .last(k)
                    if case .table(let sub) = arr.last!.value { t = sub }
                    steps.append(step); continue
                default: throw TOMLError(line: line, message: "key \"\(path[0...i].joined(separator: "."))\" is already a value, not a table")
                }
                steps.append(step)
                t = TOMLTable(line: line)
                try modify(&root, Array(steps.dropLast())) { $0[k] = TOMLNode(value: .table(TOMLTable(line: line)), line: line) }
            }
            return steps
        }

        static func appendArrayTable(_ root: inout TOMLTable, _ path: [String], line: Int) throws -> [PathStep] {
            let parent = try ensureTable(&root, Array(path.dropLast()), line: line)
            let k = path.last!
            try modify(&root, parent) { t in
                let fresh = TOMLNode(value: .table(TOMLTable(line: line)), line: line)
                switch t[k]?.value {
                case nil: t[k] = TOMLNode(value: .array([fresh]), line: line)
                case .array(var arr)?: arr.append(fresh); t[k] = TOMLNode(value: .array(arr), line: t[k]!.line)
                default: throw TOMLError(line: line, message: "key \"\(path.joined(separator: "."))\" is already a value, not an array of tables")
                }
            }
            return parent + [.last(k)]
        }

        static func assign(_ root: inout TOMLTable, _ at: [PathStep], _ key: [String], _ node: TOMLNode) throws {
            var steps = at
            for (i, k) in key.dropLast().enumerated() {
                try modify(&root, steps) { t in
                    switch t[k]?.value {
                    case nil: t[k] = TOMLNode(value: .table(TOMLTable(line: node.line)), line: node.line)
                    case .table?: break
                    default: throw TOMLError(line: node.line, message: "key \"\(key[0...i].joined(separator: "."))\" is already a value")
                    }
                }
                steps.append(.key(k))
            }
            let k = key.last!
            try modify(&root, steps) { t in
                if let old = t[k] { throw TOMLError(line: node.line, message: "duplicate key \"\(key.joined(separator: "."))\" (first set on line \(old.line))") }
                t[k] = node
            }
        }

        /// Applies `body` to the table reached by `steps`.
        static func modify(_ t: inout TOMLTable, _ steps: [PathStep], _ body: (inout TOMLTable) throws -> Void) throws {
            guard let first = steps.first else { try body(&t); return }
            let rest = Array(steps.dropFirst())
            switch first {
            case .key(let k):
                guard case .table(var sub)? = t[k]?.value else { return }
                try modify(&sub, rest, body)
                t[k] = TOMLNode(value: .table(sub), line: t[k]!.line)
            case .last(let k):
                guard case .array(var arr)? = t[k]?.value, case .table(var sub)? = arr.last?.value else { return }
                try modify(&sub, rest, body)
                arr[arr.count - 1] = TOMLNode(value: .table(sub), line: arr[arr.count - 1].line)
                t[k] = TOMLNode(value: .array(arr), line: t[k]!.line)
            }
        }

        mutating func keyPath() throws -> [String] {
            var parts = [try simpleKey()]
            while true {
                skipSpace()
                guard peek == UInt8(ascii: ".") else { break }
                pos += 1; skipSpace()
                parts.append(try simpleKey())
            }
            return parts
        }

        mutating func simpleKey() throws -> String {
            guard let c = peek else { throw fail("expected a key") }
            if c == UInt8(ascii: "\"") { return try basicString() }
            if c == UInt8(ascii: "'") { return try literalString() }
            let start = pos
            while let d = peek, isBareKeyChar(d) { pos += 1 }
            guard pos > start else { throw fail("expected a key, found \"\(restOfLine())\"") }
            return String(decoding: bytes[start..<pos], as: UTF8.self)
        }

        func isBareKeyChar(_ c: UInt8) -> Bool {
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
        }

        mutating func value() throws -> TOMLNode {
            let l = line
            guard let c = peek else { throw fail("expected a value") }
            switch c {
            case UInt8(ascii: "\""):
                if bytes[pos...].starts(with: Array("\"\"\"".utf8)) { throw fail("multi-line strings are not supported") }
                return TOMLNode(value: .string(try basicString()), line: l)
            case UInt8(ascii: "'"):
                return TOMLNode(value: .string(try literalString()), line: l)
            case UInt8(ascii: "["):
                pos += 1
                var items: [TOMLNode] = []
                while true {
                    skipBlank()
                    if peek == UInt8(ascii: "]") { pos += 1; break }
                    items.append(try value())
                    skipBlank()
                    if peek == UInt8(ascii: ",") { pos += 1; continue }
                    guard peek == UInt8(ascii: "]") else { throw fail("expected , or ] in array") }
                    pos += 1; break
                }
                return TOMLNode(value: .array(items), line: l)
            case UInt8(ascii: "{"):
                pos += 1
                var t = TOMLTable(line: l)
                skipSpace()
                if peek == UInt8(ascii: "}") { pos += 1; return TOMLNode(value: .table(t), line: l) }
                while true {
                    skipSpace()
                    let k = try keyPath()
                    skipSpace()
                    guard peek == UInt8(ascii: "=") else { throw fail("expected = in inline table") }
                    pos += 1; skipSpace()
                    let v = try value()
                    try Self.assign(&t, [], k, v)
                    skipSpace()
                    if peek == UInt8(ascii: ",") { pos += 1; continue }
                    guard peek == UInt8(ascii: "}") else { throw fail("expected , or } in inline table") }
                    pos += 1; break
                }
                return TOMLNode(value: .table(t), line: l)
            default:
                let start = pos
                while let d = peek, !(d == 0x20 || d == 0x09 || d == 0x0A || d == 0x0D || d == UInt8(ascii: ",")
                                       || d == UInt8(ascii: "]") || d == UInt8(ascii: "}") || d == UInt8(ascii: "#")) { pos += 1 }
                let word = String(decoding: bytes[start..<pos], as: UTF8.self)
                guard let v = Self.scalar(word) else {
                    throw TOMLError(line: l, message: word.isEmpty ? "expected a value" : "not a TOML value: \(word) (strings need quotes)")
                }
                return TOMLNode(value: v, line: l)
            }
        }

        static func scalar(_ w: String) -> TOMLValue? {
            if w == "true" { return .boolean(true) }
            if w == "false" { return .boolean(false) }
            let plain = w.replacingOccurrences(of: "_", with: "")
            if ["inf", "+inf"].contains(plain) { return .float(.infinity) }
            if plain == "-inf" { return .float(-.infinity) }
            if ["nan", "+nan", "-nan"].contains(plain) { return .float(.nan) }
            if plain.hasPrefix("0x"), let v = Int(plain.dropFirst(2), radix: 16) { return .integer(v) }
            if let v = Int(plain) { return .integer(v) }
            if plain.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let v = Double(plain), plain.first != "." {
                return .float(v)
            }
            return nil
        }

        mutating func basicString() throws -> String {
            pos += 1
            var out: [UInt8] = []
            while true {
                guard let c = peek, c != 0x0A else { throw fail("unterminated string") }
                pos += 1
                if c == UInt8(ascii: "\"") { break }
                if c == UInt8(ascii: "\\") {
                    guard let e = peek else { throw fail("unterminated string") }
                    pos += 1
                    switch e {
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "\""): out.append(e)
                    case UInt8(ascii: "\\"): out.append(e)
                    case UInt8(ascii: "u"), UInt8(ascii: "U"):
                        let n = e == UInt8(ascii: "u") ? 4 : 8
                        guard pos + n <= bytes.count, let code = UInt32(String(decoding: bytes[pos..<(pos + n)], as: UTF8.self), radix: 16),
                              let scalar = Unicode.Scalar(code) else { throw fail("bad unicode escape") }
                        out.append(contentsOf: Array(String(Character(scalar)).utf8))
                        pos += n
                    default: throw fail("unknown escape \\\(Character(Unicode.Scalar(e)))")
                    }
                } else { out.append(c) }
            }
            return String(decoding: out, as: UTF8.self)
        }

        mutating func literalString() throws -> String {
            pos += 1
            let start = pos
            while let c = peek, c != UInt8(ascii: "'") { guard c != 0x0A else { throw fail("unterminated string") }; pos += 1 }
            guard peek != nil else { throw fail("unterminated string") }
            let s = String(decoding: bytes[start..<pos], as: UTF8.self)
            pos += 1
            return s
        }
    }
}
