import ArgumentParser
import Foundation
import Experiments

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

    @Option(help: ArgumentHelp("Run only shard K of N (K in 0…N−1) into its own database (default results/shards/NAME-K.sqlite). Inside a Slurm array task K and N come from SLURM_ARRAY_TASK_ID/COUNT/MIN.", valueName: "K/N"))
    var shard: String?

    @Option(help: ArgumentHelp("Tests only: SIGKILL this process right after the Nth checkpoint is recorded.", visibility: .hidden))
    var killAfterCheckpoint: Int?

    @Option(name: .long, help: "Results database (SQLite). (default: results/tokbench.sqlite; results/shards/NAME-K.sqlite for a shard)")
    var db: String?

    func validate() throws {
        if let s = shard { do { _ = try Shard.parse(s) } catch { throw ValidationError("\(error)") } }
    }

    func run() throws {
        let say: (String) -> Void = { print($0); fflush(stdout) }
        try RunSession(files: files, overrides: overrides, resume: resume, dryRun: dryRun, db: db, shard: shard,
                       killAfterCheckpoint: killAfterCheckpoint, say: say).execute(say: say)
    }
}
