import ArgumentParser
import Tools

struct BenchAR: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ar",
        abstract: "AR prior training throughput (sequences/s) on seeded Markov-chain tokens, against the same transformer in PyTorch with --peer (bench/ar_peer.py).")
    @Option(help: "V: values per word.") var vocab: Int = 512
    @Option(help: "T: words per sequence (L·S).") var length: Int = 49
    @Option(help: "C: the prior's width.") var features: Int = 128
    @Option(help: "Causal transformer blocks.") var layers: Int = 2
    @Option(help: "Attention heads.") var heads: Int = 4
    @Option(help: "Sequences per step.") var batch: Int = 64
    @Option(help: "Timed steps per block.") var steps: Int = 20
    @Option(help: "Timed blocks (alternating with the peer's).") var rounds: Int = 5
    @Option(help: "Threads.") var threads: Int = 2
    @Flag(help: "Print each stage's time per step (one extra block).") var profile = false
    @Flag(help: "Also run the PyTorch peer (bench/ar_peer.py; pip install torch numpy) and print the ratio.") var peer = false

    func validate() throws {
        guard vocab > 1, length > 0, features > 0, layers > 0, heads > 0, batch > 0, steps > 0, rounds > 0, threads > 0 else {
            throw ValidationError("every size must be positive (and --vocab at least 2)")
        }
        guard features % heads == 0 else { throw ValidationError("--heads must divide --features") }
    }

    func run() throws {
        try ARBench.run(vocabulary: vocab, length: length, features: features, layers: layers, heads: heads, batch: batch, steps: steps,
                        rounds: rounds, threads: threads, peer: peer, profile: profile, say: { print($0) })
    }
}
