import XCTest
import Foundation
@testable import Experiments

/// Names and values from outside never reach a shell unquoted, and names never leave their folder.
final class HostileNamesTests: XCTestCase {
    static let hostile = ["x$(touch PWNED)y", "a b", "it's", "`id`", "$HOME", "a\nb", "\"q\"", "semi;colon", "back\\slash", "'", "", "-n",
                          "*", "~", "a'b'c", "$(printf '%s' \"$'\\x41'\")", "tab\there", "ünï", "!x", "{a,b}"]

    /// Every hostile string, quoted once, reaches bash as exactly itself: one word, nothing executed.
    func testShellQuotingRoundTripsHostileStringsThroughBash() throws {
        let dir = NSTemporaryDirectory() + "tokbench-quote-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for s in Self.hostile {
            let script = "cd \(SlurmScript.shellQuoted(dir)) && printf '%s' \(SlurmScript.shellQuoted(s))"
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/bash")
            p.arguments = ["-c", script]
            let out = Pipe(); p.standardOutput = out
            try p.run(); p.waitUntilExit()
            let got = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(got, s, "quoted \(s.debugDescription) as \(SlurmScript.shellQuoted(s))")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [], "quoting \(s.debugDescription) executed something")
        }
    }

    /// The rendered script, run by bash with a stub sbatch on PATH (a shell function), creates no file
    /// from hostile --set values, paths or the working directory's name.
    func testRenderedScriptExecutesNothingFromItsValues() throws {
        let dir = NSTemporaryDirectory() + "tokbench-slurm-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/bin", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "#!/bin/sh\nwhile [ $# -gt 0 ]; do [ \"$1\" = --wrap ] && sh -c \"$2\"; shift; done; echo 1\n".write(toFile: dir + "/bin/sbatch", atomically: true, encoding: .utf8)
        chmod(dir + "/bin/sbatch", 0o755)
        let s = SlurmScript(experimentFile: "e$(touch PWNED1).toml", experimentName: "e", shards: 2, partition: "cpu", time: "01:00:00", cpus: 1,
                            mem: nil, gres: nil, overrides: ["description=$(touch PWNED2)", "x=`touch PWNED3`"], binary: "/bin/true",
                            workdir: dir, mergedDB: "db$(touch PWNED4).sqlite", reportDir: "r'$(touch PWNED5)")
        try s.render().write(toFile: dir + "/job.sh", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [dir + "/job.sh"]
        p.environment = ["PATH": dir + "/bin:/usr/bin:/bin", "SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_JOB_ID": "9"]
        p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
        try p.run(); p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let made = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains("PWNED") }
        XCTAssertEqual(made, [])
    }

    /// Values on #SBATCH lines are checked: a newline or a space would start a new line or word there.
    func testSBATCHValuesAreChecked() throws {
        func script(partition: String?, workdir: String = "/shared/p", name: String = "e") -> SlurmScript {
            SlurmScript(experimentFile: "e.toml", experimentName: name, shards: 2, partition: partition, time: "01:00:00", cpus: 1, mem: nil, gres: nil,
                        overrides: [], binary: "/bin/true", workdir: workdir, mergedDB: "m.sqlite", reportDir: "r")
        }
        XCTAssertNoThrow(try script(partition: "gpu-a100").checkSBATCHValues())
        XCTAssertThrowsError(try script(partition: "a\nrm -rf /").checkSBATCHValues()) { XCTAssertTrue("\($0)".contains("--partition")) }
        XCTAssertThrowsError(try script(partition: nil, workdir: "/shared/my project").checkSBATCHValues()) { XCTAssertTrue("\($0)".contains("working directory")) }
    }

    /// Experiment names are plain file-name components.
    func testExperimentNamesMustBePlainFileNames() throws {
        for ok in ["quickstart", "photos64-rd", "a.b_c+d", "X1"] { XCTAssertNil(Experiment.badName(ok), ok) }
        for bad in ["../../../../escaped", "a/b", "x$(touch PWNED)y", "", ".hidden", "-n", "a b", String(repeating: "a", count: 101), "nul\u{0}"] {
            XCTAssertNotNil(Experiment.badName(bad), bad)
        }
        let text = "name = \"../../escaped\"\n[dataset]\nkind = \"fashion-mnist\"\n[[tokenizer]]\nkind = \"raw-patch\"\n"
        XCTAssertThrowsError(try Experiment.parse(text: text, file: "t.toml")) { e in
            XCTAssertTrue("\(e)".hasPrefix("t.toml:1: name: \"../../escaped\" is not a plain file name"), "\(e)")
        }
    }
}
