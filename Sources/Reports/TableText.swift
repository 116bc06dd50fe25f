import Foundation
import Store

/// Plain-text renderings of a query result: aligned columns, CSV, JSON.
public enum TableText {
    /// Numbers with up to 4 decimals, trailing zeros trimmed; ∞ spelled out.
    public static func cell(_ v: QueryValue) -> String {
        if case .real(let x) = v {
            if x.isInfinite { return x > 0 ? "inf" : "-inf" }
            if x == x.rounded() && abs(x) < 1e15 { return String(Int64(x)) }
            var s = String(format: "%.4f", x)
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
            return s == "-0" ? "0" : s
        }
        return v.description
    }

    public static func aligned(_ r: QueryResult) -> String {
        let cells = r.rows.map { $0.map(cell) }
        var widths = r.columns.map(\.count)
        for row in cells { for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ xs: [String]) -> String {
            zip(xs, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }.joined(separator: "  ")
                .replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        var out = line(r.columns) + "\n" + line(widths.map { String(repeating: "-", count: $0) }) + "\n"
        for row in cells { out += line(row) + "\n" }
        return out + "(\(r.rows.count) row\(r.rows.count == 1 ? "" : "s"))\n"
    }

    public static func csv(_ r: QueryResult) -> String {
        func esc(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        var out = r.columns.map(esc).joined(separator: ",") + "\n"
        for row in r.rows { out += row.map { esc($0.description) }.joined(separator: ",") + "\n" }
        return out
    }

    /// An array of objects; ±∞ (lossless PSNR) becomes the strings "inf"/"-inf", NaN null.
    public static func json(_ r: QueryResult) -> String {
        let objects: [[String: Any]] = r.rows.map { row in
            var o: [String: Any] = [:]
            for (c, v) in zip(r.columns, row) {
                switch v {
                case .null: o[c] = NSNull()
                case .integer(let x): o[c] = x
                case .real(let x): o[c] = x.isNaN ? NSNull() : x.isInfinite ? (x > 0 ? "inf" : "-inf") as Any : x
                case .text(let s): o[c] = s
                case .blob(let n): o[c] = "<blob \(n) bytes>"
                }
            }
            return o
        }
        let data = (try? JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys])) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
