import Kernels

/// A permutation of 0..<n drawn by Fisher–Yates from `seed` (Kernels' SplitMix64), so a split
/// depends on the seed alone, never on the platform's random source.
public func seededPermutation(_ n: Int, seed: UInt64) -> [Int] {
    var rng = SplitMix64(seed: seed ^ 0x746F_6B62_656E_6368) // "tokbench"
    return rng.permutation(n)
}

extension ImageBatch {
    /// `n` of the images chosen by `seed` (the first n of a seeded permutation), kept in their order:
    /// every seeded split of every dataset kind draws its subsets this one way.
    public func seededSubset(_ n: Int, seed: UInt64) -> ImageBatch {
        subset(Array(seededPermutation(count, seed: seed).prefix(n)).sorted())
    }
}
