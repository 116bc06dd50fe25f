import Foundation

/// One share of an experiment's runs (`tokbench run --shard K/N`, or a Slurm array task).
/// A run belongs to shard SHA-256(run key) mod N: every run in exactly one shard for any N, decided
/// by the run's own key (its configuration label and seed) alone, so adding a seed or a sweep value
/// never moves the other runs. Balanced in expectation (a hash), not to the run.
public struct Shard: Equatable, Sendable, CustomStringConvertible {
    public let index: Int
    public let count: Int
    public var description: String { "\(index)/\(count)" }

    public init(index: Int, count: Int) throws {
        guard count >= 1, count <= 100_000 else { throw ShardError("shard count must be 1…100000, got \(count)") }
        guard index >= 0, index < count else { throw ShardError("shard index must be 0…\(count - 1) for \(count) shards, got \(index)") }
        self.index = index; self.count = count
    }

    /// "K/N", K in 0…N−1.
    public static func parse(_ s: String) throws -> Shard {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else { throw ShardError("--shard expects K/N (K in 0…N−1), e.g. 0/4; got \"\(s)\"") }
        return try Shard(index: k, count: n)
    }

    /// The shard of a Slurm array task: K = (SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN) / SLURM_ARRAY_TASK_STEP,
    /// N = SLURM_ARRAY_TASK_COUNT (arrays may start at 1, or step). nil outside an array task.
    public static func fromSlurm(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> Shard? {
        guard let idText = env["SLURM_ARRAY_TASK_ID"] else { return nil }
        guard let id = Int(idText), let n = env["SLURM_ARRAY_TASK_COUNT"].flatMap(Int.init) else {
            throw ShardError("inside a Slurm array task, SLURM_ARRAY_TASK_ID (\(idText)) and SLURM_ARRAY_TASK_COUNT must be integers")
        }
        let min = env["SLURM_ARRAY_TASK_MIN"].flatMap(Int.init) ?? 0
        let step = max(1, env["SLURM_ARRAY_TASK_STEP"].flatMap(Int.init) ?? 1)
        guard (id - min) % step == 0 else { throw ShardError("Slurm array task \(id) is not on the array's grid (min \(min), step \(step)); use --shard K/N") }
        return try Shard(index: (id - min) / step, count: n)
    }

    /// The shard a run key belongs to among `count`.
    public static func index(of runKey: String, count: Int) -> Int {
        let v = UInt64(sha256Hex(Array(runKey.utf8)).prefix(16), radix: 16)!   // the digest's first 64 bits
        return Int(v % UInt64(count))
    }

    public func contains(_ run: PlannedRun) -> Bool { Self.index(of: run.key, count: count) == index }
}

public struct ShardError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}

extension Experiment {
    /// The runs of this shard only (the plan keeps its order; each run keeps its index in the full plan).
    public func sharded(_ shard: Shard) -> Experiment {
        var e = self
        e.runs = runs.filter(shard.contains)
        return e
    }
}

/// Refreshes a run's heartbeat in the store every `interval` seconds until stopped, from its own
/// thread (training does not have to yield). A failed refresh is retried at the next tick; a run
/// whose heartbeat stays silent past `ResultStore.heartbeatLimit` is taken for interrupted by `--resume`.
final class Heartbeat {
    private let timer: DispatchSourceTimer
    init(interval: TimeInterval, beat: @escaping () -> Void) {
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global(qos: .utility))
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler(handler: beat)
        timer.resume()
    }
    func stop() { timer.cancel() }
    deinit { timer.cancel() }
}
