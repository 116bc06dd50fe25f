import Kernels

/// Which training images form the batch of each step: epoch e is a permutation drawn from
/// (seed, e); step t takes the next B images of the stream. A pure function of the step, so a
/// resumed run sees exactly the batches an uninterrupted one would.
public final class BatchSchedule {
    let count: Int, batch: Int, seed: UInt64
    private var cachedEpoch = -1
    private var cached: [Int] = []

    public init(count: Int, batch: Int, seed: UInt64) { self.count = count; self.batch = batch; self.seed = seed }

    func permutation(epoch: Int) -> [Int] {
        var rng = Kernels.SplitMix64(seed: seed &+ 0x7472_6169_6E &+ UInt64(epoch) &* 0x9E37_79B9)
        return rng.permutation(count)
    }

    /// Training-image indices of step t (1-based).
    public func indices(step t: Int) -> [Int] {
        var out: [Int] = []
        var position = (t - 1) * batch
        while out.count < batch {
            let e = position / count
            if e != cachedEpoch { cachedEpoch = e; cached = permutation(epoch: e) }
            out.append(cached[position % count]); position += 1
        }
        return out
    }
}
