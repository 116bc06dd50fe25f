import ArgumentParser
import Foundation
import Reports
import Store

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Paired comparison of two runs (ids) or two configurations (labels, paired by seed) on the same eval images.",
        discussion: """
            Prints the per-image difference A − B with its 95% interval for each seed, and across seeds the mean
            difference with Student's t interval, then whether it is distinguishable from zero. Refuses runs that
            were not evaluated on identical eval images.
            Example: tokbench compare 14 15   ·   tokbench compare "vq-vae(codebook_size=512)" "fsq(codebook_size=1024)" --experiment fmnist-quantizers
            """)

    @Argument(help: "A: a run id or a configuration label.") var a: String
    @Argument(help: "B: a run id or a configuration label.") var b: String
    @Option(help: "Only runs of this experiment (its latest version).") var experiment: String?
    @Option(help: "Per-image metric (\(Comparison.metricKeys.joined(separator: " or ")))") var metric: String = Comparison.metricKeys[0]
    @OptionGroup var store: StoreOptions

    func validate() throws {
        guard Comparison.metricKeys.contains(metric) else {
            throw ValidationError("--metric: \(metric) is not stored per image; one of \(Comparison.metricKeys.joined(separator: ", "))")
        }
    }

    func run() throws {
        print(Comparison.text(try Comparison.compare(store: try ResultStore(path: store.db, readOnly: true), a, b, experiment: experiment,
                                                     metricKey: metric)), terminator: "")
    }
}
