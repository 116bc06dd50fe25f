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
        let keys = entry?.labelKeys(values) ?? []
        let always = keys.filter { values[$0] != nil && values[$0] != .string("") && values[$0] != .ints([]) }
        let quiet = Set(entry?.quietKeys ?? [])
        let shown = always + values.keys.sorted().filter {
            !always.contains($0) && !quiet.contains($0) && (defaults[$0] == nil || defaults[$0] != values[$0])
        }
        // A program (a list of strings) shows as its script's file name; an external program's args.k as k.
        func text(_ v: ConfigValue) -> String {
            if case .strings(let argv) = v, let last = argv.last { return (last as NSString).lastPathComponent }
            return v.description
        }
        let prefix = entry?.openPrefix ?? "\u{0}"
        return "\(kind)(" + shown.map { "\($0.hasPrefix(prefix) ? String($0.dropFirst(prefix.count)) : $0)=\(text(values[$0]!))" }
            .joined(separator: ", ") + ")"
    }
}

