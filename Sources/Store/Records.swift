/// A run about to start: what identifies it and how to reproduce it.
public struct NewRun: Sendable {
    public var experimentID: Int64
    public var runKey: String
    public var tokenizer: String
    public var label: String
    public var dataset: String
    public var configJSON: String
    public var seed: UInt64
    public var codeVersion: String
    public init(experimentID: Int64, runKey: String, tokenizer: String, label: String, dataset: String,
                configJSON: String, seed: UInt64, codeVersion: String) {
        self.experimentID = experimentID; self.runKey = runKey; self.tokenizer = tokenizer; self.label = label
        self.dataset = dataset; self.configJSON = configJSON; self.seed = seed; self.codeVersion = codeVersion
    }
}

/// The result of a free-form query: column names and rows of optional text/number values.
public struct QueryResult: Sendable {
    public var columns: [String]
    public var rows: [[QueryValue]]
    public init(columns: [String], rows: [[QueryValue]]) { self.columns = columns; self.rows = rows }
}

public enum QueryValue: Sendable, Equatable, CustomStringConvertible {
    case null, integer(Int64), real(Double), text(String), blob(Int)
    public var description: String {
        switch self {
        case .null: return ""
        case .integer(let v): return String(v)
        case .real(let v): return v.isInfinite ? (v > 0 ? "inf" : "-inf") : String(v)
        case .text(let v): return v
        case .blob(let n): return "<blob \(n) bytes>"
        }
    }
}

/// A run's status.
public enum RunStatus: String, Sendable { case running, finished, failed, interrupted }
