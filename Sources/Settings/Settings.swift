// Typed settings of tokenizers, backbones and quantizers (ARCHITECTURE.md, "Layout (Sources/)", row `Settings`).
// A component declares each option once, as an `Option` (name, type, default, meaning, range check and
// the property it sets) of its `DeclaredOptions` struct; the key list (`ConfigKey`s), the decoding
// (`decodeOptions`) and the help all come from that declaration: no string lookups at the point of use.
import Foundation

/// A setting's value, as read from an experiment file.
public enum ConfigValue: Equatable, Sendable, CustomStringConvertible, Codable {
    case int(Int), double(Double), bool(Bool), string(String), ints([Int]), strings([String])

    public var description: String {
        switch self {
        case .int(let v): return String(v)
        case .double(let v): return String(v)
        case .bool(let v): return String(v)
        case .string(let v): return v
        case .ints(let v): return "[" + v.map(String.init).joined(separator: ",") + "]"
        case .strings(let v): return "[" + v.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        }
    }
    public var intValue: Int? { if case .int(let v) = self { return v }; return nil }
    public var doubleValue: Double? {
        switch self { case .double(let v): return v; case .int(let v): return Double(v); default: return nil }
    }
    public var boolValue: Bool? { if case .bool(let v) = self { return v }; return nil }
    public var stringValue: String? { if case .string(let v) = self { return v }; return nil }
    public var intsValue: [Int]? { if case .ints(let v) = self { return v }; return nil }
    public var stringsValue: [String]? { if case .strings(let v) = self { return v }; return nil }

    public var type: ConfigType {
        switch self {
        case .int: return .int; case .double: return .double; case .bool: return .bool; case .string: return .string
        case .ints: return .ints; case .strings: return .strings
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .int(let v): try c.encode(v)
        case .double(let v): try c.encode(v)
        case .bool(let v): try c.encode(v)
        case .string(let v): try c.encode(v)
        case .ints(let v): try c.encode(v)
        case .strings(let v): try c.encode(v)
        }
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode(Int.self) { self = .int(v) }
        else if let v = try? c.decode(Double.self) { self = .double(v) }
        else if let v = try? c.decode(Bool.self) { self = .bool(v) }
        else if let v = try? c.decode([Int].self) { self = .ints(v) }
        else if let v = try? c.decode([String].self) { self = .strings(v) }
        else { self = .string(try c.decode(String.self)) }
    }
}

/// The type a setting must have.
public enum ConfigType: String, Sendable {
    case int = "integer", double = "number", bool = "boolean", string = "string", ints = "list of integers", strings = "list of strings"

    /// A list-valued type: a list is one value, a list of lists sweeps.
    public var isList: Bool { self == .ints || self == .strings }
}

/// One key a component accepts: its type, its default (nil: required) and what it means.
public struct ConfigKey: Sendable {
    public let name: String
    public let type: ConfigType
    public let defaultValue: ConfigValue?
    public let doc: String
    /// Returns a message when the value is impossible on its own (e.g. bits outside 1…8).
    public let check: @Sendable (ConfigValue) -> String?
    public init(_ name: String, _ type: ConfigType, default defaultValue: ConfigValue?, _ doc: String,
                check: @escaping @Sendable (ConfigValue) -> String? = { _ in nil }) {
        self.name = name; self.type = type; self.defaultValue = defaultValue; self.doc = doc; self.check = check
    }

    public static func intIn(_ range: ClosedRange<Int>) -> @Sendable (ConfigValue) -> String? {
        { v in (v.intValue.map { range.contains($0) } ?? false) ? nil : "must be in \(range.lowerBound)…\(range.upperBound), got \(v)" }
    }
    public static let nonNegative: @Sendable (ConfigValue) -> String? = { v in (v.doubleValue ?? -1) >= 0 ? nil : "must be ≥ 0" }
    public static let positive: @Sendable (ConfigValue) -> String? = { v in (v.doubleValue ?? 0) > 0 ? nil : "must be > 0" }
    public static let unitInterval: @Sendable (ConfigValue) -> String? = { v in (0..<1).contains(v.doubleValue ?? -1) ? nil : "must be in [0, 1)" }
}

/// Resolves values against a component's keys: unknown keys, wrong types and out-of-range values are
/// errors naming the key; a missing key takes its default (a key without a default is required);
/// an integer where a number is expected is that number.
/// Keys under `openPrefix` (an external program's `args.*`) pass as they are: the program checks them.
public func resolveSettings(_ values: [String: ConfigValue], keys: [ConfigKey], owner: String, openPrefix: String? = nil) throws -> [String: ConfigValue] {
    let names = Set(keys.map(\.name))
    var out: [String: ConfigValue] = [:]
    for (k, v) in values where openPrefix.map({ k.hasPrefix($0) }) ?? false { out[k] = v }
    if let unknown = values.keys.sorted().first(where: { !names.contains($0) && out[$0] == nil }) {
        throw ConfigError(key: unknown, "unknown key for \(owner) (known: \(keys.map(\.name).joined(separator: ", ")))")
    }
    for key in keys {
        guard var v = values[key.name] ?? key.defaultValue else { throw ConfigError(key: key.name, "missing (required for \(owner))") }
        if key.type == .double, case .int(let i) = v { v = .double(Double(i)) }
        guard v.type == key.type else { throw ConfigError(key: key.name, "must be a \(key.type.rawValue), got \(v)") }
        if let m = key.check(v) { throw ConfigError(key: key.name, m) }
        out[key.name] = v
    }
    return out
}

/// A configuration that cannot work, naming the key at fault.
public struct ConfigError: Error, CustomStringConvertible {
    public let key: String
    public let message: String
    public init(key: String, _ message: String) { self.key = key; self.message = message }
    public var description: String { "\(key): \(message)" }
}

/// One option of an options struct `Root`, declared once: its key (name, type, default, meaning,
/// range check) and the property it sets. A component's key list (`ConfigKey`s for validation, `--set`
/// and `tokbench tokenizers`), its decoding and its help all come from its declarations, so no name,
/// default or range is written twice.
public struct Option<Root> {
    public let key: ConfigKey
    let assign: (inout Root, ConfigValue) -> Void
    let read: (Root) -> ConfigValue

    public init(key: ConfigKey, assign: @escaping (inout Root, ConfigValue) -> Void, read: @escaping (Root) -> ConfigValue) {
        self.key = key; self.assign = assign; self.read = read
    }
    public typealias Check = @Sendable (ConfigValue) -> String?

    public static func int(_ name: String, _ p: WritableKeyPath<Root, Int>, default d: Int, _ doc: String, check: @escaping Check = { _ in nil }) -> Option {
        Option(key: ConfigKey(name, .int, default: .int(d), doc, check: check), assign: { $0[keyPath: p] = $1.intValue! }, read: { .int($0[keyPath: p]) })
    }
    /// An integer where 0 stands for "none" (nil).
    public static func intOrNone(_ name: String, _ p: WritableKeyPath<Root, Int?>, _ doc: String, check: @escaping Check = { _ in nil }) -> Option {
        Option(key: ConfigKey(name, .int, default: .int(0), doc, check: check),
               assign: { r, v in r[keyPath: p] = v.intValue! == 0 ? nil : v.intValue! }, read: { .int($0[keyPath: p] ?? 0) })
    }
    /// A number stored as Float (the engine's precision); declared and stored in the database as a Double.
    public static func float(_ name: String, _ p: WritableKeyPath<Root, Float>, default d: Double, _ doc: String, check: @escaping Check = { _ in nil }) -> Option {
        Option(key: ConfigKey(name, .double, default: .double(d), doc, check: check), assign: { $0[keyPath: p] = Float($1.doubleValue!) },
               read: { .double(Double($0[keyPath: p])) })
    }
    public static func double(_ name: String, _ p: WritableKeyPath<Root, Double>, default d: Double, _ doc: String, check: @escaping Check = { _ in nil }) -> Option {
        Option(key: ConfigKey(name, .double, default: .double(d), doc, check: check), assign: { $0[keyPath: p] = $1.doubleValue! }, read: { .double($0[keyPath: p]) })
    }
    public static func bool(_ name: String, _ p: WritableKeyPath<Root, Bool>, default d: Bool, _ doc: String) -> Option {
        Option(key: ConfigKey(name, .bool, default: .bool(d), doc), assign: { $0[keyPath: p] = $1.boolValue! }, read: { .bool($0[keyPath: p]) })
    }
    public static func ints(_ name: String, _ p: WritableKeyPath<Root, [Int]>, default d: [Int], _ doc: String, check: @escaping Check = { _ in nil }) -> Option {
        Option(key: ConfigKey(name, .ints, default: .ints(d), doc, check: check), assign: { $0[keyPath: p] = $1.intsValue! }, read: { .ints($0[keyPath: p]) })
    }
    /// A string; `default` nil makes the key required.
    public static func string(_ name: String, _ p: WritableKeyPath<Root, String>, default d: String?, _ doc: String, check: @escaping Check = { _ in nil }) -> Option {
        Option(key: ConfigKey(name, .string, default: d.map { .string($0) }, doc, check: check), assign: { $0[keyPath: p] = $1.stringValue! },
               read: { .string($0[keyPath: p]) })
    }
    /// A list of strings; `default` nil makes the key required.
    public static func strings(_ name: String, _ p: WritableKeyPath<Root, [String]>, default d: [String]?, _ doc: String, check: @escaping Check = { _ in nil }) -> Option {
        Option(key: ConfigKey(name, .strings, default: d.map { .strings($0) }, doc, check: check), assign: { $0[keyPath: p] = $1.stringsValue! },
               read: { .strings($0[keyPath: p]) })
    }

    /// The same option for a struct that holds `Root` at `p` (options shared by several components).
    public func within<Outer>(_ p: WritableKeyPath<Outer, Root>) -> Option<Outer> {
        let assign = self.assign, read = self.read
        return Option<Outer>(key: key, assign: { o, v in assign(&o[keyPath: p], v) }, read: { read($0[keyPath: p]) })
    }

    /// The value this option holds in `r`.
    public func value(in r: Root) -> ConfigValue { read(r) }
}

/// Options built from their declarations: `unset` is the value they are applied to (every declared
/// property is overwritten, so its placeholders are no defaults), `options` the declarations.
public protocol DeclaredOptions {
    static var unset: Self { get }
    static var options: [Option<Self>] { get }
}

extension DeclaredOptions {
    /// The keys, in declaration order.
    public static var keys: [ConfigKey] { options.map(\.key) }
    /// From resolved values (`resolveSettings`); a key that is absent takes its declared default.
    public init(values: [String: ConfigValue]) throws { self = try decodeDeclared(Self.options, into: Self.unset, from: values) }
    /// Every option at its default (a required option without a value makes this trap: use `init(values:)`).
    public static var defaults: Self { try! Self(values: [:]) }
}

/// Applies `options` to `value` from `values` (absent keys: their defaults), checking each value's type.
public func decodeDeclared<Root>(_ options: [Option<Root>], into value: Root, from values: [String: ConfigValue]) throws -> Root {
    var r = value
    for o in options {
        guard var v = values[o.key.name] ?? o.key.defaultValue else { throw ConfigError(key: o.key.name, "missing") }
        if o.key.type == .double, case .int(let i) = v { v = .double(Double(i)) }
        guard v.type == o.key.type else { throw ConfigError(key: o.key.name, "must be a \(o.key.type.rawValue), got \(v)") }
        o.assign(&r, v)
    }
    return r
}

/// Decodes declared options from resolved values.
public func decodeOptions<T: DeclaredOptions>(_ type: T.Type, from values: [String: ConfigValue]) throws -> T { try T(values: values) }
