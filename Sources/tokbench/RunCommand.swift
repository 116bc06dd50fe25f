import ArgumentParser
import Foundation
import Experiments
import Store

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Validate experiment files, then run and record every run they declare.")

    @Argument(help: "Experiment files (TOML).")
    var files: [String]

    @Option(name: .customLong("set"), help: "Override a key, e.g. --set training.steps=200 or --set tokenizer.0.bits=4.")
    var overrides: [String] = []

    @Flag(help: "Continue the latest experiment of the same name: skip finished runs, resume interrupted ones from their checkpoints.")
    var resume = false

    @Flag(help: "Validate the files and list their runs without running anything.")
    var dryRun = false

    @Option(help: ArgumentHelp("Tests only: SIGKILL this process right after the Nth checkpoint is recorded.", visibility: .hidden))
    var killAfterCheckpoint: Int?

    @OptionGroup var store: StoreOptions

    func run() throws {
        let experiments = try files.map { try Experiment.load(path: $0, overrides: overrides) }   // all checked before any run
        if dryRun { for e in experiments { print(e.plan) }; return }
        let runner = ExperimentRunner(store: try ResultStore(path: store.db), artifactDir: store.artifactDir, cacheDir: store.cacheDir, say: { print($0); fflush(stdout) })
        if let n = killAfterCheckpoint { runner.afterCheckpoint = { count in if count >= n { kill(getpid(), SIGKILL) } } }
        for e in experiments {
            print("experiment \(e.name) (\(e.file)): \(e.runs.count) runs")
            let ids = try runner.run(e, resume: resume)
            print("recorded runs \(ids.map(String.init).joined(separator: ", ")) in \(store.db)")
        }
    }
}
