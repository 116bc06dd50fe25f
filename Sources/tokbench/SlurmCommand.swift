import ArgumentParser
import Foundation
import Experiments

struct SlurmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slurm",
        abstract: "Write an sbatch script that runs an experiment as a Slurm job array of shards, then merges them and writes the report (never submits it).",
        discussion: "Then: sbatch SCRIPT. The working directory must be on a filesystem every node sees.")

    @Argument(help: "Experiment file (TOML).") var file: String
    @Option(help: "Number of shards (array tasks).") var shards: Int = 4
    @Option(help: "Slurm partition.") var partition: String?
    @Option(help: "Time limit of each task and of the merge job (Slurm syntax).") var time: String = "04:00:00"
    @Option(help: "CPUs per task (tokbench uses as many threads).") var cpus: Int = 2
    @Option(help: "Memory per node (Slurm syntax, e.g. 8G).") var mem: String?
    @Option(help: "Generic resources (e.g. gpu:1, for external tokenizers).") var gres: String?
    @Option(name: .customLong("set"), help: "Override a key in every task, as for tokbench run.") var overrides: [String] = []
    @Option(help: "The merged database.") var db: String = "results/tokbench.sqlite"
    @Option(help: "Report folder (default: results/NAME).") var report: String?
    @Option(name: .shortAndLong, help: "Output script (default: slurm-NAME.sh).") var output: String?

    func validate() throws {
        if shards < 1 || shards > 10_000 { throw ValidationError("--shards must be 1…10000, got \(shards)") }
        if cpus < 1 { throw ValidationError("--cpus must be at least 1, got \(cpus)") }
    }

    func run() throws {
        let written = try SlurmScript.write(file: file, overrides: overrides, shards: shards, partition: partition, time: time, cpus: cpus, mem: mem,
                                            gres: gres, db: db, report: report, output: output)
        print("wrote \(written.path): \(written.shards) array tasks over \(written.runs) runs, then merge into \(db) and the report. Submit it: sbatch \(written.path)")
    }
}
