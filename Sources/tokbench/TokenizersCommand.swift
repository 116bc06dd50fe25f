import ArgumentParser
import Foundation
import Tokenizers

struct TokenizersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizers", abstract: "List the registered tokenizers and the keys each accepts in an experiment file.")

    func run() throws { print(TokenizerRegistry.describe(), terminator: "") }
}
