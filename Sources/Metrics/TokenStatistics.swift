import Foundation
import Tokenizers
import MetricCatalogue

/// How a token stream uses its vocabulary.
/// usage = fraction of the V codes used at least once on the eval set; perplexity = 2^(entropy of
/// the code frequencies). For tokens of several words (residual-VQ stages, raw-patch values) both
/// are computed per word position and averaged (usage of each stage's K codes). Only when a word
/// has at most 2^24 values. distinct = number of distinct whole tokens seen.
public struct TokenStatistics: Equatable, Sendable {
    public var usage: Double?
    public var perplexity: Double?
    public var entropyBits: Double?   // order-0 entropy of a word, bits (mean over positions)
    public var distinct: Int
}

public func tokenStatistics(_ tokens: Tokens) -> TokenStatistics {
    let S = tokens.wordsPerToken
    let n = tokens.count * tokens.length
    var distinct = Set<[UInt32]>()
    if S > 1 { for t in 0..<n { distinct.insert(Array(tokens.words[(t * S)..<((t + 1) * S)])) } }
    var usage = 0.0, perplexity = 0.0, entropy = 0.0, distinctSingle = 0
    for position in 0..<S {
        let u = wordUsage((0..<n).map { tokens.words[$0 * S + position] }, wordRange: tokens.wordRange)
        usage += u.usage
        perplexity += u.perplexity
        entropy += u.entropyBits
        distinctSingle = u.distinct
    }
    let applies = tokens.wordRange <= 1 << 24
    return TokenStatistics(usage: applies ? usage / Double(S) : nil, perplexity: applies ? perplexity / Double(S) : nil,
                           entropyBits: entropy / Double(S), distinct: S > 1 ? distinct.count : distinctSingle)
}
