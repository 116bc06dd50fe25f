// The metric catalogue: every number tokbench records (final results and per-step curves) is a
// `Metric` declared here once, with its store key, definition, unit, display format and direction.
// Nothing else spells a metric key: the evaluator, the training loop, the quantizers, the store's
// summary view, the reports and the exports all go through these values (ARCHITECTURE.md, "Layout (Sources/)", row `Metrics/Catalogue`).
import Foundation

/// One recorded number.
public struct Metric: Hashable, Sendable, CustomStringConvertible {
    public enum Direction: String, Sendable { case higherIsBetter = "higher is better", lowerIsBetter = "lower is better", neither = "" }
    /// How a value is shown in tables (reports, `runs`).
    public enum Format: Sendable, Hashable {
        case integer              // "%.0f"
        case decimals(Int)        // "%.Nf"
        case wholeOrDecimals(Int) // whole numbers bare, else "%.Nf" (log2 V)
        case count                // whole numbers below 10^6, else "2^x" (V)
        case general              // "%g"
    }

    /// Key in the store (`result.key`, `metric.key`).
    public let key: String
    /// Short column title.
    public let title: String
    /// What the number means: recorded in the `definition` table and the report's definitions.
    public let definition: String
    public let unit: String
    public let format: Format
    public let direction: Direction
    /// Column of the `summary` view (nil: not in the view).
    public let summaryColumn: String?
    /// A training loss term that the loop adds to the total it minimises.
    public let isLossTerm: Bool

    public init(_ key: String, title: String, unit: String = "", format: Format = .general, direction: Direction = .neither,
                summaryColumn: String? = nil, isLossTerm: Bool = false, _ definition: String) {
        self.key = key; self.title = title; self.unit = unit; self.format = format; self.direction = direction
        self.summaryColumn = summaryColumn; self.isLossTerm = isLossTerm; self.definition = definition
    }

    public var description: String { key }

    public static func == (a: Metric, b: Metric) -> Bool { a.key == b.key }
    public func hash(into h: inout Hasher) { h.combine(key) }

    /// The value as a table cell ("∞" for +inf, "–" when absent).
    public func format(_ v: Double?) -> String {
        guard let v else { return "–" }
        if v.isInfinite { return v > 0 ? "∞" : "−∞" }
        let s = formatted(v)
        // A value that rounds to zero prints as zero: −2e-7 (an rFID of identical sets, through the
        // matrix square root) is "0.000", not "-0.000".
        return s.hasPrefix("-") && s.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) ? String(s.dropFirst()) : s
    }

    func formatted(_ v: Double) -> String {
        switch format {
        case .integer: return String(format: "%.0f", v)
        case .decimals(let d): return String(format: "%.\(d)f", v)
        case .wholeOrDecimals(let d): return v == v.rounded() ? String(format: "%.0f", v) : String(format: "%.\(d)f", v)
        case .count: return v < 1e6 ? String(format: "%.0f", v) : String(format: "2^%.1f", log2(v)).replacingOccurrences(of: ".0", with: "")
        case .general: return String(format: "%g", v)
        }
    }
}

/// A metric key and value, as recorded.
public typealias MetricValue = (metric: Metric, value: Double)

