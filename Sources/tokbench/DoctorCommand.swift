import ArgumentParser
import Foundation
import Tools

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor", abstract: "Check the results database, the data paths and the system libraries.")

    @OptionGroup var store: StoreOptions

    func run() throws {
        let findings = Doctor.check(databasePath: store.db)
        for f in findings { print((!f.ok ? "PROBLEM " : f.warning ? "WARNING " : "ok    ") + f.what) }
        if findings.contains(where: { !$0.ok }) { throw ExitCode(1) }
    }
}
