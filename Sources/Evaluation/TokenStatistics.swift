import Foundation
import Tokenizers

/// How a token stream uses its vocabulary.
/// usage = fraction of the V codes used at least once on the eval set (only for single-word
/// tokens with V ≤ 2^24; nil otherwise); perplexity = 2^(entropy of the code frequencies);
/// distinct = number of distinct tokens (tuples of words) seen.
public struct TokenStatistics: Equatable, Sendable {
    public var usage: Double?
    public var perplexity: Double?
    public var entropyBits: Double?   // order-0 entropy of a token, bits (single-word tokens)
    public var distinct: Int
}

public func tokenStatistics(_ tokens: Tokens) -> TokenStatistics {
    let S = tokens.wordsPerToken
    let n = tokens.count * tokens.length
    var distinct = Set<[UInt32]>()
    if S > 1 {
        for t in 0..<n { distinct.insert(Array(tokens.words[(t * S)..<((t + 1) * S)])) }
        return TokenStatistics(usage: nil, perplexity: nil, entropyBits: nil, distinct: distinct.count)
    }
    var counts: [UInt32: Int] = [:]
    for w in tokens.words { counts[w, default: 0] += 1 }
    var h = 0.0
    for (_, c) in counts { let p = Double(c) / Double(n); h -= p * log2(p) }
    let usage: Double? = tokens.wordRange <= 1 << 24 ? Double(counts.count) / Double(tokens.wordRange) : nil
    return TokenStatistics(usage: usage, perplexity: pow(2, h), entropyBits: h, distinct: counts.count)
}
