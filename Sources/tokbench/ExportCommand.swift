import ArgumentParser
import Foundation
import Reports
import Store

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Export rate–distortion curves for other tools (CompressAI's plot JSON).")

    enum Format: String, ExpressibleByArgument { case compressai }

    @Option(help: "Export format.") var format: Format = .compressai
    @Option(name: .customLong("experiment"), help: "Experiment name (repeatable; default: all).") var experiments: [String] = []
    @Option(name: .customLong("runs"), help: "SQL condition on the summary view.") var filter: String?
    @Option(name: .shortAndLong, help: "Output folder (one JSON file per tokenizer family and rate).") var output: String
    @OptionGroup var store: StoreOptions

    func run() throws {
        let data = try ReportData.load(store: try ResultStore(path: store.db, readOnly: true), experiments: experiments, filter: filter)
        let files = try CompressAIExport.write(data, to: output)
        print("wrote \(files.joined(separator: ", "))")
    }
}
