import ArgumentParser
import Foundation
import Tokenizers

struct TokenizersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizers", abstract: "List the registered tokenizers and the keys each accepts in an experiment file.")

    func run() throws {
        for e in TokenizerRegistry.entries {
            print("\(e.kind): \(e.summary)")
            for k in e.keys {
                let d = k.defaultValue.map { $0 == .string("") ? "\"\"" : $0.description } ?? "required"
                print("  " + k.name.padding(toLength: 16, withPad: " ", startingAt: 0) + k.type.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)
                      + "default " + d.padding(toLength: 8, withPad: " ", startingAt: 0) + k.doc)
            }
        }
    }
}
