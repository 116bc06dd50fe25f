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

/// Token counts and usage, chunk by chunk: per word position the count of each value (bounded by
/// min(V, tokens seen)), and the distinct whole tokens of multi-word tokens as 128-bit hashes, up to
/// `distinctCap` of them (beyond it distinct_tokens is not reported). Finishes into the same figures as
/// `tokenStatistics` on the whole stream, and the token-count rows of the budget.
public final class TokenStatisticsAccumulator: MetricAccumulator {
    public static let distinctCap = 1 << 22
    let log2Vocab: Double?
    let bytesPerImage: Int
    var counts: [[UInt32: Int]] = []            // [S] value → count
    var distinct = Set<SIMD2<UInt64>>()
    var distinctOverflow = false
    var tokensSeen = 0, length = 0, wordRange = 0

    public init(log2Vocab: Double?, bytesPerImage: Int) { self.log2Vocab = log2Vocab; self.bytesPerImage = bytesPerImage }

    public func consume(_ chunk: EvalChunk) {
        guard let t = chunk.tokens else { return }
        let S = t.wordsPerToken, n = t.count * t.length
        if counts.isEmpty { counts = [[UInt32: Int]](repeating: [:], count: S); length = t.length; wordRange = t.wordRange }
        precondition(counts.count == S && length == t.length, "every chunk's tokens have the same shape")
        t.words.withUnsafeBufferPointer { w in
            for s in 0..<S { for i in 0..<n { counts[s][w[i * S + s], default: 0] += 1 } }
            if S > 1 && !distinctOverflow {
                for i in 0..<n {
                    var h1: UInt64 = 0xcbf2_9ce4_8422_2325, h2: UInt64 = 0x9E37_79B9_7F4A_7C15
                    for s in 0..<S {
                        let x = UInt64(w[i * S + s])
                        h1 = (h1 ^ x) &* 0x0000_0100_0000_01B3
                        h2 = (h2 ^ (x &+ UInt64(s) << 32)) &* 0xBF58_476D_1CE4_E5B9; h2 ^= h2 >> 31
                    }
                    distinct.insert(SIMD2(h1, h2))
                    if distinct.count > Self.distinctCap { distinctOverflow = true; distinct.removeAll(); break }
                }
            }
        }
        tokensSeen += n
    }

    public func save(_ w: inout StateWriter) {
        w.int(tokensSeen); w.int(length); w.int(wordRange); w.int(distinctOverflow ? 1 : 0)
        w.int(counts.count); for c in counts { w.counts(c) }
        let hashes = distinct.sorted { ($0[0], $0[1]) < ($1[0], $1[1]) }
        w.int(hashes.count); for h in hashes { w.int(Int(Int64(bitPattern: h[0]))); w.int(Int(Int64(bitPattern: h[1]))) }
    }

    public func restore(_ r: inout StateReader) throws {
        tokensSeen = try r.int(); length = try r.int(); wordRange = try r.int(); distinctOverflow = try r.int() == 1
        counts = try (0..<r.int()).map { _ in try r.counts() }
        distinct = []
        for _ in 0..<(try r.int()) { distinct.insert(SIMD2(UInt64(bitPattern: Int64(try r.int())), UInt64(bitPattern: Int64(try r.int())))) }
    }

    public func finish() -> Accumulated {
        guard !counts.isEmpty else { return Accumulated() }
        let S = counts.count
        var usage = 0.0, perplexity = 0.0
        for c in counts {
            let u = wordUsage(counts: c, total: tokensSeen, wordRange: wordRange)
            usage += u.usage; perplexity += u.perplexity
        }
        var values: [MetricValue] = [(.tokensPerImage, Double(length))]
        if let log2V = log2Vocab {
            values += [(.log2Vocab, log2V),
                       (.capacityBPB, InformationBudget.capacityBitsPerByte(tokens: length, log2V: log2V, bytesPerImage: bytesPerImage))]
        }
        let d = S > 1 ? (distinctOverflow ? nil : distinct.count) : counts[0].count
        if let d { values.append((.distinctTokens, Double(d))) }
        if let log2V = log2Vocab, log2V <= 53 { values.append((.codebookSize, pow(2, log2V).rounded())) }
        if wordRange <= 1 << 24 { values += [(.usage, usage / Double(S)), (.perplexity, perplexity / Double(S))] }
        return Accumulated(values: values)
    }
}
