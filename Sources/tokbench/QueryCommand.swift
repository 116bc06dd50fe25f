import ArgumentParser
import Foundation
import Experiments
import Store
import Reports

/// Output formats of tables.
enum TableFormat: String, ExpressibleByArgument, CaseIterable { case table, csv, json }

struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query", abstract: "Run a read-only SQL query on the results database.")

    @Argument(help: "SQL, e.g. \"select * from summary\".")
    var sql: String

    @Option(help: "Output format: table, csv or json.")
    var format: TableFormat = .table

    @OptionGroup var store: StoreOptions

    func run() throws {
        print(render(try ResultStore(path: store.db, readOnly: true).query(sql), format), terminator: "")
    }
}

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "List runs: the summary view, one row per run.")

    @Flag(help: "CSV output.") var csv = false
    @Flag(help: "JSON output.") var json = false
    @Option(help: "Only runs of this experiment.") var experiment: String?
    @Flag(help: "One row per configuration (runs differing only in seed): n, mean and std of every column (the summary_by_config view).")
    var byConfig = false
    @OptionGroup var store: StoreOptions

    func validate() throws {
        if csv && json { throw ValidationError("give --csv or --json, not both") }
    }

    func run() throws {
        let s = try ResultStore(path: store.db, readOnly: true)
        print(render(byConfig ? try s.summaryByConfig(experiment: experiment) : try s.summary(experiment: experiment), csv ? .csv : json ? .json : .table),
              terminator: "")
    }
}

func render(_ r: QueryResult, _ format: TableFormat) -> String {
    switch format {
    case .table: return TableText.aligned(r)
    case .csv: return TableText.csv(r)
    case .json: return TableText.json(r)
    }
}
