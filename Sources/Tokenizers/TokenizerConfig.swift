/// A scalar setting of a tokenizer, as read from an experiment file.
public enum ConfigValue: Equatable, Sendable, CustomStringConvertible, Codable {
    case int(Int), double(Double), bool(Bool), string(String)

    public var description: String {
        switch self {
        case .int(let v): return String(v)
        case .double(let v): return String(v)
        case .bool(let v): return String(v)
        case .string(let v): return v
        }
    }
    public var intValue: Int? { if case .int(let v) = self { return v }; return nil }
    public var doubleValue: Double? {
        switch self { case .double(let v): return v; case .int(let v): return Double(v); default: return nil }
    }
    public var boolValue: Bool? { if case .bool(let v) = self { return v }; return nil }
    public var stringValue: String? { if case .string(let v) = self { return v }; return nil }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .int(let v): try c.encode(v)
        case .double(let v): try c.encode(v)
        case .bool(let v): try c.encode(v)
        case .string(let v): try c.encode(v)
        }
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode(Int.self) { self = .int(v) }
        else if let v = try? c.decode(Double.self) { self = .double(v) }
        else if let v = try? c.decode(Bool.self) { self = .bool(v) }
        else { self = .string(try c.decode(String.self)) }
    }
}

/// The type a setting must have.
public enum ConfigType: String, Sendable { case int = "integer", double = "number", bool = "boolean", string = "string" }

extension ConfigValue {
    public var type: ConfigType {
        switch self { case .int: return .int; case .double: return .double; case .bool: return .bool; case .string: return .string }
    }
}

/// One key a tokenizer accepts: its type, its default (nil: required) and what it means.
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

    /// `value` must lie in `range` (integers).
    public static func intIn(_ range: ClosedRange<Int>) -> @Sendable (ConfigValue) -> String? {
        { v in (v.intValue.map { range.contains($0) } ?? false) ? nil : "must be in \(range.lowerBound)…\(range.upperBound), got \(v)" }
    }
}

/// A fully resolved tokenizer configuration: every key of the kind has a value.
public struct TokenizerConfig: Equatable, Sendable {
    public var kind: String
    public var values: [String: ConfigValue]
    public init(kind: String, values: [String: ConfigValue]) { self.kind = kind; self.values = values }
    public func int(_ k: String) -> Int { values[k]!.intValue! }
    public func double(_ k: String) -> Double { values[k]!.doubleValue! }
    public func bool(_ k: String) -> Bool { values[k]!.boolValue! }
    public func string(_ k: String) -> String { values[k]!.stringValue! }
    /// "kind(k1=v1, k2=v2)": the kind's label keys, then the other values that differ from the
    /// defaults, sorted — a short, stable label for tables (the full config is stored with every run).
    public var label: String {
        let entry = TokenizerRegistry.entry(kind)
        let defaults = Dictionary(uniqueKeysWithValues: (entry?.keys ?? []).compactMap { k in k.defaultValue.map { (k.name, $0) } })
        let always = (entry?.labelKeys ?? []).filter { values[$0] != nil && !(values[$0] == .string("")) }
        let shown = always + values.keys.sorted().filter { !always.contains($0) && (defaults[$0] == nil || defaults[$0] != values[$0]) }
        return "\(kind)(" + shown.map { "\($0)=\(values[$0]!)" }.joined(separator: ", ") + ")"
    }
}

/// A configuration that cannot work, naming the key at fault.
public struct ConfigError: Error, CustomStringConvertible {
    public let key: String
    public let message: String
    public init(key: String, _ message: String) { self.key = key; self.message = message }
    public var description: String { "\(key): \(message)" }
}
