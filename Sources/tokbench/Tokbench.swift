import ArgumentParser
import Foundation

@main
struct Tokbench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokbench",
        abstract: "Compare image tokenizers under an information budget.",
        subcommands: [RunCommand.self, RunsCommand.self, QueryCommand.self, BudgetCommand.self])
}

/// Options shared by every command that touches the results database.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "Results database (SQLite).")
    var db: String = "results/tokbench.sqlite"
}

/// Runs `body`; any error becomes one line on stderr and exit code 1 (never a trace).
func reportingErrors(_ body: () throws -> Void) throws {
    do { try body() } catch let e as ExitCode { throw e } catch {
        FileHandle.standardError.write(Data("tokbench: error: \(error)\n".utf8))
        throw ExitCode(1)
    }
}
