import Foundation

/// The token stream of a batch. A token is a tuple of `wordsPerToken` words, each < `wordRange`:
/// VQ/FSQ/LFQ have one word per token (V = wordRange); residual VQ one per stage; raw patches one
/// per patch value (V = wordRange^(p·p·C), e.g. 2^384 for 4×4×3 at 8 bits — far past UInt64, so
/// the words themselves are the token). Tokens lie on a gridRows × gridCols grid, row-major.
/// words: [B, L, S] with L = gridRows·gridCols, S = wordsPerToken
public struct Tokens: Equatable, Sendable {
    public var count: Int          // B
    public var gridRows: Int
    public var gridCols: Int
    public var wordsPerToken: Int  // S
    public var wordRange: Int      // each word is in 0..<wordRange
    public var words: [UInt32]

    public init(count: Int, gridRows: Int, gridCols: Int, wordsPerToken: Int, wordRange: Int, words: [UInt32]) {
        precondition(words.count == count * gridRows * gridCols * wordsPerToken, "words do not match [B, L, S]")
        self.count = count; self.gridRows = gridRows; self.gridCols = gridCols
        self.wordsPerToken = wordsPerToken; self.wordRange = wordRange; self.words = words
    }

    /// L, tokens per image.
    public var length: Int { gridRows * gridCols }
    /// The tokens of images `range` (a chunk of the stream). [range.count, L, S]
    public func images(_ range: Range<Int>) -> Tokens {
        let n = length * wordsPerToken
        return Tokens(count: range.count, gridRows: gridRows, gridCols: gridCols, wordsPerToken: wordsPerToken, wordRange: wordRange,
                      words: Array(words[(range.lowerBound * n)..<(range.upperBound * n)]))
    }

    /// log2 V of one token.
    public var log2VocabularySize: Double { Double(wordsPerToken) * log2(Double(wordRange)) }
}

extension Tokens {
    /// Tokens from integers [N, L] or [N, L, S] made elsewhere (the external protocol, `tokbench eval`),
    /// each word in 0..<wordRange (checked by the caller). A square L is read as a √L × √L grid (the
    /// token coder's neighbour context), any other L as one row.
    public init(values: [Int64], shape: [Int], wordRange: Int) {
        let L = shape[1], S = shape.count == 3 ? shape[2] : 1
        let side = Int(Double(L).squareRoot().rounded())
        let (rows, cols) = side * side == L ? (side, side) : (1, L)
        self.init(count: shape[0], gridRows: rows, gridCols: cols, wordsPerToken: S, wordRange: wordRange, words: values.map { UInt32($0) })
    }
}
