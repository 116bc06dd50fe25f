/// SplitMix64: a tiny deterministic generator, so a split depends on the seed alone
/// (never on the platform's random source).
public struct SplitMix64: Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform integer in 0..<n (n > 0), by rejection so there is no modulo bias.
    public mutating func below(_ n: Int) -> Int {
        let bound = UInt64(n)
        let limit = UInt64.max - UInt64.max % bound
        while true { let x = next(); if x < limit { return Int(x % bound) } }
    }
}

/// A permutation of 0..<n drawn by Fisher–Yates from `seed`.
public func seededPermutation(_ n: Int, seed: UInt64) -> [Int] {
    var rng = SplitMix64(seed: seed ^ 0x746F_6B62_656E_6368) // "tokbench"
    var p = Array(0..<n)
    if n > 1 { for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, rng.below(i + 1)) } }
    return p
}
