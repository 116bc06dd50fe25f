import ArgumentParser
import Foundation
import Tokenizers
import Experiments

struct TokenizersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizers", abstract: "List the registered tokenizers and the keys each accepts in an experiment file, then the [dataset] and [training] tables' keys.")

    func run() throws {
        print(TokenizerRegistry.describe() + Experiment.tableKeys.map { TokenizerRegistry.describe(title: $0.table, keys: $0.keys) }.joined(), terminator: "")
    }
}
