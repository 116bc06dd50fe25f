import ArgumentParser
import Foundation
import Reports
import Store

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Write a comparison report (report.md, report.html, SVG figures, PNG grid) from the store.")

    @Option(name: .customLong("experiment"), help: "Experiment name (repeatable; default: all).")
    var experiments: [String] = []

    @Option(name: .customLong("runs"), help: "SQL condition on the summary view, e.g. \"tokenizer = 'vq-vae'\".")
    var filter: String?

    @Option(name: .shortAndLong, help: "Output folder.")
    var output: String

    @Option(help: "Report title (default: the experiment names).")
    var title: String?

    @Option(name: .customLong("pair"), help: ArgumentHelp("Two configuration labels to compare in the report (give --pair twice per pair: A, then B).", valueName: "label"))
    var pairLabels: [String] = []

    @OptionGroup var store: StoreOptions

    func validate() throws {
        if pairLabels.count % 2 != 0 { throw ValidationError("--pair comes in twos: --pair A --pair B (got \(pairLabels.count))") }
    }

    func run() throws {
        let data = try ReportData.load(store: try ResultStore(path: store.db, readOnly: true), experiments: experiments, filter: filter)
        let files = try ReportWriter.write(data, title: title ?? "tokbench report: " + (experiments.isEmpty ? "all runs" : experiments.joined(separator: ", ")), to: output,
                                         pairs: stride(from: 0, to: pairLabels.count, by: 2).map { (pairLabels[$0], pairLabels[$0 + 1]) })
        print("wrote \(files.count) files to \(output): \(files.map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))")
    }
}
