import ArgumentParser
import Foundation
import Tools

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Say what tokbench reads in files: images, IDX, CIFAR-10, npz, experiment files, .tbl streams.")

    @Argument(help: "Files.") var files: [String]

    func run() throws {
        for f in files { print("\(f): " + (try FileInspector.describe(f))) }
    }
}
