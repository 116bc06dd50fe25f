import ArgumentParser
import Foundation
import Store

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge shard databases into one: every finished or failed run with its config, curves, results and artifact paths, plus the cached data rates.",
        discussion: """
            Idempotent: a run already in OUT with the same run key and identical results is left alone. The same run key
            with different results is a conflict: an error naming both files and the run, and nothing is written.
            Example: tokbench merge results/tokbench.sqlite results/shards/photos64-rd-*.sqlite
            """)

    @Argument(help: "The merged database (created when missing).") var out: String
    @Argument(help: "Shard databases.") var shards: [String]

    func validate() throws {
        if shards.isEmpty { throw ValidationError("give at least one shard database") }
        let o = URL(fileURLWithPath: out).standardizedFileURL.path
        if shards.contains(where: { URL(fileURLWithPath: $0).standardizedFileURL.path == o }) { throw ValidationError("\(out) is both the output and a shard") }
    }

    func run() throws {
        let store = try ResultStore(path: out)
        defer { store.close() }
        let s = try store.merge(shards: shards)
        print(MergeSummary.text(s, into: out, shards: shards.count))
    }
}

extension MergeSummary {
    static func text(_ s: MergeSummary, into out: String, shards: Int) -> String {
        var t = "merged \(shards) shard\(shards == 1 ? "" : "s") into \(out): \(s.added) runs added, \(s.identical) already present with identical results"
        if s.replaced > 0 { t += ", \(s.replaced) unfinished runs replaced by finished ones" }
        t += ", \(s.dataRates) cached data rates added"
        for k in s.skipped { t += "\nnot merged (not a result): \(k)" }
        return t
    }
}
