import ArgumentParser
import Foundation
import Kernels

struct Tokbench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokbench",
        abstract: "Compare image tokenizers under an information budget.",
        subcommands: [RunCommand.self, ProbeCommand.self, RunsCommand.self, QueryCommand.self, ReportCommand.self, CompareCommand.self, MergeCommand.self, SlurmCommand.self, ExportCommand.self, BudgetCommand.self, DataCommand.self, DoctorCommand.self, EnvCommand.self, FitPriorCommand.self, EvalCommand.self, BenchCommand.self, InspectCommand.self, TokenizersCommand.self, WeightsCommand.self])
}

/// Options shared by every command that touches the results database.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "Results database (SQLite).")
    var db: String = "results/tokbench.sqlite"

    /// Per-run files live beside the database: reconstruction strips, checkpoints.
    var artifactDir: String { ((db as NSString).deletingLastPathComponent as NSString).appendingPathComponent("artifacts") }
    /// Every cache (photo tiles) lives beside the database too: results/cache by default, whatever the working directory.
    var cacheDir: String { ((db as NSString).deletingLastPathComponent as NSString).appendingPathComponent("cache") }
}

/// Entry point: help goes to stdout; any error becomes one line on stderr and a non-zero exit
/// (never a trace, never a usage dump).
@main
enum Main {
    static func main() {
        BLASKernel.selectBetterKernelIfNeeded(programName: "tokbench")
        // Large GEMMs split over our own worker threads, OpenBLAS single-threaded: no spinning hand-offs
        // between OpenBLAS's pool and the parallel loops (each C element is computed as before: same numbers).
        Threading.configure(threads: Threading.workers, splitGEMM: true)
        do {
            var command = try Tokbench.parseAsRoot()
            try command.run()
        } catch {
            let code = Tokbench.exitCode(for: error)
            if code == .success {
                print(Tokbench.fullMessage(for: error))
            } else {
                let message = Tokbench.message(for: error).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { !$0.isEmpty }.joined(separator: " ")
                if !message.isEmpty { FileHandle.standardError.write(Data("tokbench: error: \(message)\n".utf8)) }
            }
            exit(code.rawValue)
        }
    }
}
