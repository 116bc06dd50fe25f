import Foundation

/// The `sbatch` script of `tokbench slurm`: a job array over the shards of one experiment and a merge
/// job that waits for the whole array (`--dependency=afterok`), merges the shard databases and writes
/// the report. tokbench never submits it. Requeue-safe: every task runs `tokbench run --resume`, and
/// only the first start of the first task submits the merge job.
public struct SlurmScript {
    public var experimentFile: String
    public var experimentName: String
    public var shards: Int
    public var partition: String?
    public var time: String
    public var cpus: Int
    public var mem: String?
    public var gres: String?
    public var overrides: [String] = []
    /// Absolute paths on the shared filesystem.
    public var binary: String
    public var workdir: String
    /// The merged database and the report folder (relative to `workdir`).
    public var mergedDB: String
    public var reportDir: String

    public init(experimentFile: String, experimentName: String, shards: Int, partition: String?, time: String, cpus: Int, mem: String?,
                gres: String?, overrides: [String], binary: String, workdir: String, mergedDB: String, reportDir: String) {
        self.experimentFile = experimentFile; self.experimentName = experimentName; self.shards = shards; self.partition = partition
        self.time = time; self.cpus = cpus; self.mem = mem; self.gres = gres; self.overrides = overrides; self.binary = binary
        self.workdir = workdir; self.mergedDB = mergedDB; self.reportDir = reportDir
    }

    /// The shard databases, in shard order (`RecordingPlace` without --db).
    public var shardDBs: [String] { (0..<shards).map { RecordingPlace(db: nil, experiment: experimentName, shard: try! Shard(index: $0, count: shards)).db } }
    public var logDir: String { "results/shards/logs" }

    /// The script. Every value from outside (names, paths, --set values, partition, …) reaches the shell
    /// only through `q` (single quotes); values on `#SBATCH` lines, which sbatch reads itself, must pass
    /// `checkSBATCHValues` first (no whitespace, quotes or control characters).
    public func render() -> String {
        let name = experimentName
        var sb = ["--job-name=tokbench-\(name)", "--array=0-\(shards - 1)", "--cpus-per-task=\(cpus)", "--time=\(time)",
                  "--requeue", "--open-mode=append", "--output=\(workdir)/\(logDir)/\(name)-%A_%a.out"]
        var common: [String] = []
        if let p = partition { common.append("--partition=\(p)") }
        sb += common
        if let m = mem { sb.append("--mem=\(m)") }
        if let g = gres { sb.append("--gres=\(g)") }
        let sets = overrides.map { " --set " + q($0) }.joined()
        let merge = "cd \(q(workdir)) && \(q(binary)) merge \(q(mergedDB)) \(shardDBs.map(q).joined(separator: " ")) && \(q(binary)) report --experiment \(q(name)) -o \(q(reportDir)) --db \(q(mergedDB))"
        let mergeOptions = (["--parsable", "--job-name=tokbench-\(name)-merge"].map(q) + ["--dependency=afterok:\"$SLURM_ARRAY_JOB_ID\""]
                            + (["--kill-on-invalid-dep=yes", "--cpus-per-task=1", "--time=\(time)", "--output=\(workdir)/\(logDir)/\(name)-merge-%j.out"] + common).map(q))
            .joined(separator: " ")
        func comment(_ s: String) -> String { s.map { $0.isNewline || ($0.asciiValue.map { $0 < 0x20 } ?? false) ? "?" : String($0) }.joined() }
        return """
        #!/bin/bash
        # tokbench: experiment \(name) (\(comment(experimentFile))) as a Slurm job array of \(shards) shards, then one job that
        # merges the shard databases into \(comment(mergedDB)) and writes the report to \(comment(reportDir)).
        # Written by `tokbench slurm`; tokbench never submits it. Submit it yourself:   sbatch <this file>
        # Every node must see \(workdir) (binary, experiment file, results/) on a shared filesystem;
        # each shard writes its own SQLite file (one SQLite file shared over NFS is not safe).
        \(sb.map { "#SBATCH " + $0 }.joined(separator: "\n"))
        set -euo pipefail
        cd \(q(workdir))
        mkdir -p \(q(logDir))

        # The first start of the first task submits the merge and report job; it runs once every task of
        # this array has succeeded (afterok). A requeued task (SLURM_RESTART_COUNT > 0) does not submit again.
        if [ "$SLURM_ARRAY_TASK_ID" = "${SLURM_ARRAY_TASK_MIN:-0}" ] && [ "${SLURM_RESTART_COUNT:-0}" = "0" ]; then
          echo "submitted the merge and report job $(sbatch \(mergeOptions) \\
            --wrap \(q(merge)))"
        fi

        # This task's shard. Requeue-safe: --resume skips finished runs and continues interrupted ones from
        # their checkpoints (a run whose heartbeat went silent is taken for interrupted, whatever its node).
        exec \(q(binary)) run \(q(experimentFile)) --resume --shard "$((SLURM_ARRAY_TASK_ID - ${SLURM_ARRAY_TASK_MIN:-0}))/\(shards)"\(sets)

        """
    }

    /// Values that go on `#SBATCH` lines (sbatch parses those itself, not the shell): one word of safe
    /// characters each, or a one-line error naming the option.
    public func checkSBATCHValues() throws {
        let fields: [(String, String?)] = [("--partition", partition), ("--time", time), ("--mem", mem), ("--gres", gres),
                                           ("the working directory", workdir), ("the experiment name", experimentName)]
        for (field, value) in fields {
            guard let v = value else { continue }
            guard !v.isEmpty, v.unicodeScalars.allSatisfy({ Self.sbatchSafe.contains($0) }) else {
                throw ExperimentError(file: experimentFile, line: nil, key: nil,
                                      message: "\(field) \(v.debugDescription) cannot go on an #SBATCH line: use only letters, digits and / . _ - : , = + @ %")
            }
        }
    }
    static let sbatchSafe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-:,=+@%")

    /// The one quoting function: `s` as one word for bash, single-quoted unless it is plainly safe.
    public static func shellQuoted(_ s: String) -> String {
        !s.isEmpty && s.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "/._-=:,+@".unicodeScalars.contains($0)) })
            ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
    func q(_ s: String) -> String { Self.shellQuoted(s) }
}

extension SlurmScript {
    /// Validates the experiment, renders its script with absolute paths (this binary, the working
    /// directory), creates the log folder, and writes the script executable.
    public static func write(file: String, overrides: [String], shards: Int, partition: String?, time: String, cpus: Int, mem: String?, gres: String?,
                             db: String, report: String?, output: String?) throws -> (path: String, shards: Int, runs: Int) {
        let e = try Experiment.load(path: file, overrides: overrides)
        let cwd = FileManager.default.currentDirectoryPath
        let binary = URL(fileURLWithPath: CommandLine.arguments[0], relativeTo: URL(fileURLWithPath: cwd)).resolvingSymlinksInPath().path
        let script = SlurmScript(experimentFile: file, experimentName: e.name, shards: shards, partition: partition, time: time, cpus: cpus,
                                 mem: mem, gres: gres, overrides: overrides, binary: binary, workdir: cwd, mergedDB: db,
                                 reportDir: report ?? "results/\(e.name)")
        try script.checkSBATCHValues()
        let path = output ?? "slurm-\(e.name).sh"
        try FileManager.default.createDirectory(atPath: script.logDir, withIntermediateDirectories: true)
        try Data(script.render().utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        chmod(path, 0o755)
        return (path, shards, e.runs.count)
    }
}
