import Foundation
import Datasets
import Kernels
import Probing

/// `tokbench bench ar`: the AR prior's training throughput (sequences per second: embeddings, causal blocks,
/// head, softmax cross-entropy, backward, Adam) against the same transformer in PyTorch (bench/ar_peer.py)
/// on the same token sequences, in the same run. Rounds alternate, tokbench's block then the peer's; the ratio is
/// the median of the rounds'. The tokens are a seeded first-order Markov chain over V values (so the loss
/// falls as it would on real tokens), written to a .npy the peer reads; both sides step through it in order.
public enum ARBench {
    public static func run(vocabulary V: Int, length T: Int, features C: Int, layers: Int, heads: Int, batch B: Int, steps: Int, rounds: Int,
                           threads: Int, peer: Bool, profile: Bool = false, say: (String) -> Void) throws {
        let sequences = B * steps
        var rng = SplitMix64(seed: 7)
        var words = [Int](repeating: 0, count: sequences * T)
        for n in 0..<sequences {
            var w = rng.int(below: V)
            for t in 0..<T { words[n * T + t] = w; w = rng.uniform() < 0.5 ? (w * 31 + 7) % V : rng.int(below: V) }
        }
        Threading.configure(threads: threads, splitGEMM: true)   // as tokbench run and probe configure it
        let prior = ARPrior(ARPriorConfig(vocabulary: V, length: T, features: C, layers: layers, heads: heads), seed: 0, learningRate: 1e-3)
        say("AR prior: V = \(V), T = \(T), C = \(C), \(layers) blocks, \(heads) heads, \(prior.params.count) parameters; batch \(B), \(steps) steps per block, \(threads) threads, CPU: \(FIDBench.cpuName())")
        let folder = NSTemporaryDirectory() + "tokbench-bench-ar-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let tokens = folder + "/tokens.npy"
        try Data(encodeNPY(int32: words.map(Int32.init), shape: [sequences, T])).write(to: URL(fileURLWithPath: tokens))
        func block() -> (rate: Double, loss: Double) {
            var loss = 0.0
            let start = DispatchTime.now().uptimeNanoseconds
            for s in 0..<steps { loss = prior.trainStep(Array(words[(s * B * T)..<((s + 1) * B * T)]), batch: B) }
            return (Double(sequences) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9), loss)
        }
        _ = prior.trainStep(Array(words[0..<(B * T)]), batch: B)   // warm-up
        if profile {
            var total: [String: Double] = [:], order: [String] = []
            for s in 0..<steps {
                for (stage, t) in prior.profileStep(Array(words[(s * B * T)..<((s + 1) * B * T)]), batch: B) {
                    if total[stage] == nil { order.append(stage) }
                    total[stage, default: 0] += t
                }
            }
            let all = total.values.reduce(0, +)
            for stage in order { say(String(format: "  %-24@ %8.2f ms/step  %5.1f %%", stage as NSString, 1000 * total[stage]! / Double(steps), 100 * total[stage]! / all)) }
        }
        let peerProcess = peer ? try PeerProcess(["python3", "-u", "bench/ar_peer.py", "--serve", "--tokens", tokens, "--vocab", String(V), "--features", String(C),
                                                  "--layers", String(layers), "--heads", String(heads), "--batch", String(B), "--threads", String(threads)],
                                                 script: "bench/ar_peer.py", needs: "pip install torch numpy") : nil
        var mine: [Double] = [], theirs: [Double] = [], ratios: [Double] = []
        say(peer ? "round   tokbench seq/s   pytorch seq/s   ratio   tokbench loss (nats/word)" : "round   tokbench seq/s   loss (nats/word)")
        for r in 0..<rounds {
            let (t, loss) = block()
            mine.append(t)
            if let p = peerProcess {
                let q = try p.round()
                theirs.append(q); ratios.append(t / q)
                say(String(format: "%5d   %14.1f   %13.1f   %5.3f   %.4f", r + 1, t, q, t / q, loss))
            } else {
                say(String(format: "%5d   %14.1f   %.4f", r + 1, t, loss))
            }
        }
        peerProcess?.close()
        let median = EngineBench.Comparison.median
        say(peer ? String(format: "median: tokbench %.1f seq/s, pytorch %.1f seq/s, ratio %.3f (tokbench / pytorch)", median(mine), median(theirs), median(ratios))
                 : String(format: "median: tokbench %.1f seq/s", median(mine)))
    }
}
