import XCTest
import Foundation
@testable import Experiments

final class ShardingTests: XCTestCase {
    /// Every run of an experiment in exactly one shard's plan, for N = 1…64.
    func testShardsPartitionTheRunsForEveryN() throws {
        let e = try Experiment.parse(text: """
            name = "s"
            seeds = [0, 1, 2, 3]
            [dataset]
            kind = "fashion-mnist"
            [[tokenizer]]
            kind = "raw-patch"
            patch = [1, 2, 4, 7]
            bits = [8, 7, 6, 5, 4, 3, 2, 1]
            """)
        XCTAssertEqual(e.runs.count, 128)
        for n in 1...64 {
            var seen: [String: Int] = [:]
            for k in 0..<n { for r in e.sharded(try Shard(index: k, count: n)).runs { seen[r.key, default: 0] += 1 } }
            XCTAssertEqual(seen.count, e.runs.count, "N = \(n)")
            XCTAssertTrue(seen.values.allSatisfy { $0 == 1 }, "N = \(n)")
        }
        // Balanced in expectation: 300 runs over 4 shards, each within ±30% of 75.
        let keys = (0..<300).map { "vq-vae(codebook_size=\($0 % 30)) seed=\($0 / 30)" }
        let loads = (0..<4).map { k in keys.filter { Shard.index(of: $0, count: 4) == k }.count }
        XCTAssertTrue(loads.allSatisfy { $0 > 52 && $0 < 98 }, "\(loads)")
    }

    /// Adding a seed or a sweep value moves no other run: the shard is a function of the run's key.
    func testAddingRunsMovesNoOtherRun() throws {
        let toml = { (seeds: String, sizes: String) in """
            name = "s"
            seeds = \(seeds)
            [dataset]
            kind = "fashion-mnist"
            [[tokenizer]]
            kind = "vq-vae"
            codebook_size = \(sizes)
            """ }
        let small = try Experiment.parse(text: toml("[0, 1]", "[256, 512]"))
        let big = try Experiment.parse(text: toml("[0, 1, 2]", "[256, 512, 1024]"))
        for n in [2, 3, 5, 8] {
            for k in 0..<n {
                let s = try Shard(index: k, count: n)
                let before = Set(small.sharded(s).runs.map(\.key)), after = Set(big.sharded(s).runs.map(\.key))
                XCTAssertTrue(before.isSubset(of: after), "N = \(n), K = \(k)")
                XCTAssertEqual(after.intersection(small.runs.map(\.key)), before)
            }
        }
        // The plan index is the place in the whole file, whatever the shard.
        let s = try Shard(index: 1, count: 2)
        for r in big.sharded(s).runs { XCTAssertEqual(big.planIndex(of: r), big.runs.firstIndex { $0.key == r.key }) }
    }

    func testSlurmArrayTasksMapToShards() throws {
        XCTAssertNil(try Shard.fromSlurm([:]))
        XCTAssertEqual(try Shard.fromSlurm(["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "0"]), try Shard(index: 0, count: 4))
        // Arrays that start at 1 (--array=1-4).
        XCTAssertEqual(try Shard.fromSlurm(["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1"]), try Shard(index: 3, count: 4))
        // With a step (--array=10-16:2 → 10, 12, 14, 16).
        XCTAssertEqual(try Shard.fromSlurm(["SLURM_ARRAY_TASK_ID": "14", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "10",
                                            "SLURM_ARRAY_TASK_STEP": "2"]), try Shard(index: 2, count: 4))
        XCTAssertThrowsError(try Shard.fromSlurm(["SLURM_ARRAY_TASK_ID": "9", "SLURM_ARRAY_TASK_COUNT": "2", "SLURM_ARRAY_TASK_MIN": "1"]))
        XCTAssertThrowsError(try Shard.fromSlurm(["SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "2"]))
        XCTAssertEqual(try Shard.parse("2/5"), try Shard(index: 2, count: 5))
        for bad in ["5/5", "-1/3", "1", "a/b", "1/0"] { XCTAssertThrowsError(try Shard.parse(bad), bad) }
    }

    func testRecordingPlaces() {
        let s = try! Shard(index: 2, count: 3)
        XCTAssertEqual(RecordingPlace(db: nil, experiment: "rd", shard: nil),
                       RecordingPlace(db: "results/tokbench.sqlite", experiment: "rd", shard: nil))
        let p = RecordingPlace(db: nil, experiment: "rd", shard: s)
        XCTAssertEqual(p.db, "results/shards/rd-2.sqlite")
        XCTAssertEqual(p.artifactDir, "results/shards/artifacts/rd-2")
        XCTAssertEqual(p.cacheDir, "results/cache")
        let q = RecordingPlace(db: "/scratch/x/my.sqlite", experiment: "rd", shard: s)
        XCTAssertEqual(q.db, "/scratch/x/my.sqlite")
        XCTAssertEqual(q.artifactDir, "/scratch/x/artifacts/rd-2")
    }

    func testSlurmScriptHasTheArrayTheMergeAndTheResume() throws {
        let s = SlurmScript(experimentFile: "experiments/rd.toml", experimentName: "rd", shards: 5, partition: "gpu", time: "01:00:00", cpus: 4,
                            mem: "8G", gres: nil, overrides: ["training.steps=10"], binary: "/shared/tokbench", workdir: "/shared/proj",
                            mergedDB: "results/tokbench.sqlite", reportDir: "results/rd")
        let text = s.render()
        for line in ["#SBATCH --array=0-4", "#SBATCH --cpus-per-task=4", "#SBATCH --requeue", "#SBATCH --partition=gpu", "#SBATCH --mem=8G",
                     "--dependency=afterok:\"$SLURM_ARRAY_JOB_ID\"", "exec /shared/tokbench run experiments/rd.toml --resume --shard",
                     "/shared/tokbench merge results/tokbench.sqlite results/shards/rd-0.sqlite results/shards/rd-1.sqlite",
                     "results/shards/rd-4.sqlite", "report --experiment rd -o results/rd", "--set training.steps=10", "SLURM_RESTART_COUNT"] {
            XCTAssertTrue(text.contains(line), line)
        }
        XCTAssertFalse(text.contains("--gres"))
        XCTAssertEqual(s.q("a b'c"), "'a b'\\''c'")
    }
}
