// Plain record types, one per table (GRDB). Column names are the tables' (Migrations.swift);
// only the store reads and writes them.
import Foundation
import GRDB

public struct ExperimentRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "experiment"
    public var id: Int64?
    public var name: String
    public var file: String
    public var fileSHA256: String
    public var createdAt: String
    enum CodingKeys: String, CodingKey { case id, name, file, fileSHA256 = "file_sha256", createdAt = "created_at" }
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A run: what identifies it, how to reproduce it, and where it stands.
public struct RunRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "run"
    public var id: Int64?
    public var experimentID: Int64
    public var runKey: String          // stable identity within the experiment (resume, merge)
    public var tokenizer: String       // registry kind
    public var label: String
    public var dataset: String
    public var configJSON: String
    public var seed: Int64             // the UInt64 seed's bit pattern
    public var status: String
    public var error: String?
    public var startedAt: String
    public var finishedAt: String?
    public var codeVersion: String
    public var host: String
    public var pid: Int64
    public var heartbeatAt: String?    // last sign of life of the running process (v3)
    enum CodingKeys: String, CodingKey {
        case id, experimentID = "experiment_id", runKey = "run_key", tokenizer, label, dataset, configJSON = "config_json", seed, status, error,
             startedAt = "started_at", finishedAt = "finished_at", codeVersion = "code_version", host, pid, heartbeatAt = "heartbeat_at"
    }
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
    /// The status, or an error naming the run when the database holds a value this build does not know.
    public func checkedStatus() throws -> RunStatus {
        guard let s = RunStatus(rawValue: status) else { throw StoreError("run \(id.map(String.init) ?? "?") has status '\(status)', which this tokbench does not know") }
        return s
    }
}

public struct ParamRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "param"
    public var runID: Int64, key: String, value: String
    enum CodingKeys: String, CodingKey { case runID = "run_id", key, value }
}

/// One point of a training curve.
public struct MetricRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "metric"
    public var runID: Int64, step: Int, key: String, value: Double?
    enum CodingKeys: String, CodingKey { case runID = "run_id", step, key, value }
}

/// One final number of a run.
public struct ResultRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "result"
    public var runID: Int64, key: String, value: Double?
    enum CodingKeys: String, CodingKey { case runID = "run_id", key, value }
}

public struct ArtifactRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "artifact"
    public var runID: Int64, kind: String, path: String
    enum CodingKeys: String, CodingKey { case runID = "run_id", kind, path }
}

/// Per-image values of one metric of a run: `count` float64 little-endian, in eval order.
public struct ImageMetricRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "image_metric"
    public var runID: Int64, key: String, count: Int, data: Data
    enum CodingKeys: String, CodingKey { case runID = "run_id", key, count, data }

    init(runID: Int64, key: String, values: [Double]) {
        var d = Data(capacity: values.count * 8)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
        self.runID = runID; self.key = key; count = values.count; data = d
    }

    /// The values, or nil when the blob's length does not match `count`.
    var values: [Double]? {
        guard data.count == count * 8 else { return nil }
        let bytes = [UInt8](data)
        return (0..<count).map { i in
            var bits: UInt64 = 0
            for k in 0..<8 { bits |= UInt64(bytes[i * 8 + k]) << (8 * UInt64(k)) }
            return Double(bitPattern: bits)
        }
    }
}

public struct DefinitionRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "definition"
    public var key: String, text: String
}

/// The cached lossless rate of an eval split under one coder.
public struct DataRateRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "data_rate"
    public var datasetKey: String, coder: String, bits: Int, bytes: Int, images: Int, seconds: Double, codeVersion: String, createdAt: String
    enum CodingKeys: String, CodingKey {
        case datasetKey = "dataset_key", coder, bits, bytes, images, seconds, codeVersion = "code_version", createdAt = "created_at"
    }
}

/// One AR probe of a run: a prior trained on the run's tokens at one seed (v4).
public struct ProbeRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "probe"
    public var id: Int64?
    public var runID: Int64
    public var seed: Int64
    public var configJSON: String
    public var status: String
    public var error: String?
    public var startedAt: String
    public var finishedAt: String?
    public var codeVersion: String
    public var samplesPath: String?
    enum CodingKeys: String, CodingKey {
        case id, runID = "run_id", seed, configJSON = "config_json", status, error, startedAt = "started_at", finishedAt = "finished_at",
             codeVersion = "code_version", samplesPath = "samples_path"
    }
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// One point of a probe's curve.
public struct ProbeMetricRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "probe_metric"
    public var probeID: Int64, step: Int, key: String, value: Double?
    enum CodingKeys: String, CodingKey { case probeID = "probe_id", step, key, value }
}

/// One final number of a probe.
public struct ProbeResultRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "probe_result"
    public var probeID: Int64, key: String, value: Double?
    enum CodingKeys: String, CodingKey { case probeID = "probe_id", key, value }
}

/// A probe with everything recorded about it, as reports read it.
public struct StoredProbe: Sendable {
    public var probe: ProbeRecord
    public var results: [String: Double]
    public var curves: [String: [(step: Int, value: Double)]]
}

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

/// A finished (or any) run with everything recorded about it, as reports read it.
public struct StoredRun: Sendable {
    public var run: RunRecord
    public var experiment: String
    public var results: [String: Double]
    public var params: [String: String]
    public var artifacts: [String: String]
    public var curves: [String: [(step: Int, value: Double)]]
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

/// The param holding the SHA-256 of a run's eval images ([B, C, H, W] bytes, eval order): paired
/// comparisons require equal ones.
public let evalFingerprintParam = "dataset.eval_sha256"

/// A run's status.
public enum RunStatus: String, Sendable { case running, finished, failed, interrupted }

/// The columns the typed queries filter, order and group on, each spelled once (GRDB's `Columns`
/// idiom, shared by the tables: `run_id` is the run's id wherever it appears).
enum Columns {
    static let id = Column("id"), name = Column("name"), fileSHA256 = Column("file_sha256"), experimentID = Column("experiment_id")
    static let runKey = Column("run_key"), runID = Column("run_id"), status = Column("status"), kind = Column("kind")
    static let probeID = Column("probe_id")
    static let key = Column("key"), step = Column("step"), datasetKey = Column("dataset_key"), coder = Column("coder")
}
