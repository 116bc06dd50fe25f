import Foundation
import Settings

/// A fully resolved tokenizer configuration: every key of the kind has a value.
public struct TokenizerConfig: Equatable, Sendable {
    public var kind: String
    public var values: [String: ConfigValue]
    public init(kind: String, values: [String: ConfigValue]) { self.kind = kind; self.values = values }
    /// "kind(k1=v1, k2=v2)": the kind's label keys, then the other values that differ from the
    /// defaults, sorted — a short, stable label for tables (the full config is stored with every run).
    public var label: String {
        let entry = TokenizerRegistry.entry(kind)
        let defaults = Dictionary(uniqueKeysWithValues: (entry?.keys ?? []).compactMap { k in k.defaultValue.map { (k.name, $0) } })
        let always = (entry?.labelKeys ?? []).filter { values[$0] != nil && values[$0] != .string("") && values[$0] != .ints([]) }
        let shown = always + values.keys.sorted().filter { !always.contains($0) && (defaults[$0] == nil || defaults[$0] != values[$0]) }
        return "\(kind)(" + shown.map { "\($0)=\(values[$0]!)" }.joined(separator: ", ") + ")"
    }
}

