import GRDB
import MetricCatalogue

/// The derived views, generated from the metric catalogue (every metric with a `summaryColumn`, in
/// catalogue order), so a metric added there appears here without a migration. A view holds no
/// data: when the catalogue changes, the views are dropped and recreated at the next open (the
/// migrations, which own the tables, never change).
///
/// - `summary`: one row per run with the headline columns.
/// - `summary_by_config`: one row per configuration (experiment + label) over its finished runs,
///   which differ only in seed: n, the seeds and run ids, and for every metric column its mean
///   (`psnr`) and sample standard deviation (`psnr_std`, n − 1 in the denominator, two-pass; null
///   when n < 2 or a value is infinite). Definitions: `agg_seeds` in the `definition` table.
enum SummaryView {
    static var metricColumns: [(key: String, column: String)] {
        Metric.results.compactMap { m in m.summaryColumn.map { (m.key, $0) } }
    }

    static var sql: String {
        let metrics = metricColumns.map { "(SELECT value FROM result WHERE run_id = r.id AND key = '\($0.key)') AS \($0.column)" }
        let columns = ["r.id AS run_id", "e.name AS experiment", "r.tokenizer", "r.label", "r.dataset", "r.status"]
            + metrics
            + ["r.seed", "r.code_version", "r.started_at", "r.finished_at"]
            + [("env.cpu", "cpu"), ("env.threads", "threads"), ("env.blas_core", "blas_core")].map {
                "(SELECT value FROM param WHERE run_id = r.id AND key = '\($0.0)') AS \($0.1)"
            }
        return "CREATE VIEW summary AS\nSELECT " + columns.joined(separator: ",\n       ") + "\nFROM run r JOIN experiment e ON e.id = r.experiment_id"
    }

    static var byConfigSQL: String {
        let cols = metricColumns.map(\.column)
        let means = cols.map { "avg(\($0)) AS \($0)" }
        let outer = cols.flatMap { c in
            ["m.\(c)",
             "CASE WHEN count(s.\(c)) > 1 AND m.\(c) BETWEEN -1e300 AND 1e300 THEN CASE WHEN min(s.\(c)) = max(s.\(c)) THEN 0.0 ELSE sqrt(sum((s.\(c) - m.\(c)) * (s.\(c) - m.\(c))) / (count(s.\(c)) - 1)) END END AS \(c)_std"]
        }
        return """
            CREATE VIEW summary_by_config AS
            WITH f AS (SELECT * FROM summary WHERE status = 'finished'),
                 m AS (SELECT experiment, label, \(means.joined(separator: ", ")) FROM f GROUP BY experiment, label)
            SELECT s.experiment, min(s.tokenizer) AS tokenizer, s.label, min(s.dataset) AS dataset, count(*) AS n,
                   group_concat(s.seed, ',') AS seeds, group_concat(s.run_id, ',') AS run_ids,
                   \(outer.joined(separator: ",\n       "))
            FROM f s JOIN m ON m.experiment = s.experiment AND m.label = s.label
            GROUP BY s.experiment, s.label
            ORDER BY min(s.run_id)
            """
    }

    /// For a read-only connection: when a stored view differs from the catalogue's, both views are created
    /// as TEMP views (which shadow the stored ones for this connection; the file is not written).
    static func ensureTemporary(_ db: Database) throws {
        var differs = false
        for (name, sql) in [("summary", sql), ("summary_by_config", byConfigSQL)] {
            let stored = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'view' AND name = ?", arguments: [name])
            if stored != sql { differs = true }
        }
        guard differs else { return }
        for sql in [sql, byConfigSQL] { try db.execute(sql: sql.replacingOccurrences(of: "CREATE VIEW", with: "CREATE TEMP VIEW", options: .anchored)) }
    }

    /// Creates the views, or recreates them when a stored definition differs from the catalogue's.
    static func ensure(_ db: Database) throws {
        for (name, sql) in [("summary", sql), ("summary_by_config", byConfigSQL)] {
            let current = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'view' AND name = ?", arguments: [name])
            guard current != sql else { continue }
            if name == "summary" { try db.execute(sql: "DROP VIEW IF EXISTS summary_by_config") }   // depends on summary
            try db.execute(sql: "DROP VIEW IF EXISTS \(name)")
            try db.execute(sql: sql)
        }
    }
}
