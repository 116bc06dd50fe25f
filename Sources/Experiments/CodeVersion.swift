import Foundation

/// The code version recorded with every run: the last git commit that changed the code
/// (Package.swift, Sources/) in the checkout the binary was built from (found by walking up from
/// the executable), with "-dirty" when that code has uncommitted changes; "unknown" outside a git
/// checkout. Commits and edits of docs, experiments or results do not change it.
public enum CodeVersion {
    public static let current: String = {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent(".git").path) {
                let code = ["Package.swift", "Sources"]
                guard let head = git(["log", "-1", "--format=%h", "--abbrev=12", "--"] + code, in: dir.path), !head.isEmpty else { return "unknown" }
                let dirty = git(["status", "--porcelain", "--untracked-files=no", "--"] + code, in: dir.path).map { !$0.isEmpty } ?? false
                return head + (dirty ? "-dirty" : "")
            }
            dir = dir.deletingLastPathComponent()
        }
        return "unknown"
    }()

    static func git(_ args: [String], in dir: String) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git", "-C", dir] + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
