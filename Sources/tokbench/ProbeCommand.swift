import ArgumentParser
import Foundation
import Experiments

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "AR probing of a recorded run: train a causal transformer prior on its train-split tokens and record what it pays on the eval tokens (bits per token, bits per byte), with samples and gFID when asked.")

    @Option(name: .customLong("run"), help: "The run to probe (a finished run with its checkpoint artifact, or an external protocol 3 run with its probe-words artifact).") var runID: Int64
    @Option(help: "Read the [ar_probe] table of this experiment file (default: the table's defaults).") var from: String?
    @Option(name: .customLong("set"), help: "Override an [ar_probe] key, e.g. --set steps=500 or --set seeds=[0,1,2].") var overrides: [String] = []
    @Option(help: "The weights folder for gFID (default: $TOKBENCH_WEIGHTS or ~/.cache/tokbench/weights).") var weights: String?
    @OptionGroup var store: StoreOptions

    func validate() throws {
        guard runID > 0 else { throw ValidationError("--run must be a positive run id") }
    }

    func run() throws {
        let say: (String) -> Void = { print($0); fflush(stdout) }
        try ProbeSession(runID: runID, from: from, overrides: overrides, db: store.db, artifactDir: store.artifactDir, cacheDir: store.cacheDir,
                         weights: weights).execute(say: say)
    }
}
