// Typed settings of tokenizers, backbones and quantizers (ARCHITECTURE.md, "Layout (Sources/)", row `Settings`).
// A component declares its keys once as `ConfigKey`s (name, type, default, meaning, range check) and
// reads them through a Codable options struct decoded from the resolved values (`decodeOptions`):
// no string lookups and no force-unwraps at the point of use.
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

/// Decodes an options struct from resolved values; its CodingKeys are the settings' names.
public func decodeOptions<T: Decodable>(_ type: T.Type, from values: [String: ConfigValue]) throws -> T {
    let data = try JSONEncoder().encode(values)
    let decoder = JSONDecoder()
    do { return try decoder.decode(T.self, from: data) } catch let DecodingError.keyNotFound(key, _) {
        throw ConfigError(key: key.stringValue, "missing")
    } catch let DecodingError.typeMismatch(_, context) {
        throw ConfigError(key: context.codingPath.map(\.stringValue).joined(separator: "."), "wrong type")
    }
}

/// A configuration that cannot work, naming the key at fault.
public struct ConfigError: Error, CustomStringConvertible {
    public let key: String
    public let message: String
    public init(key: String, _ message: String) { self.key = key; self.message = message }
    public var description: String { "\(key): \(message)" }
}
