import GRDB
import MetricCatalogue

/// The `summary` view: one row per run with the headline columns. Its metric columns are generated
/// from the metric catalogue (every metric with a `summaryColumn`, in catalogue order), so a metric
/// added there appears here without a migration. A view holds no data: when the catalogue changes,
/// the view is dropped and recreated at the next open (the migrations, which own the tables, never change).
enum SummaryView {
    static var sql: String {
        let metricColumns = Metric.results.compactMap { m in
            m.summaryColumn.map { "(SELECT value FROM result WHERE run_id = r.id AND key = '\(m.key)') AS \($0)" }
        }
        let columns = ["r.id AS run_id", "e.name AS experiment", "r.tokenizer", "r.label", "r.dataset", "r.status"]
            + metricColumns
            + ["r.seed", "r.code_version", "r.started_at", "r.finished_at"]
            + [("env.cpu", "cpu"), ("env.threads", "threads"), ("env.blas_core", "blas_core")].map {
                "(SELECT value FROM param WHERE run_id = r.id AND key = '\($0.0)') AS \($0.1)"
            }
        return "CREATE VIEW summary AS\nSELECT " + columns.joined(separator: ",\n       ") + "\nFROM run r JOIN experiment e ON e.id = r.experiment_id"
    }

    /// Creates the view, or recreates it when the stored definition differs from the catalogue's.
    static func ensure(_ db: Database) throws {
        let current = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'view' AND name = 'summary'")
        guard current != sql else { return }
        try db.execute(sql: "DROP VIEW IF EXISTS summary")
        try db.execute(sql: sql)
    }
}
