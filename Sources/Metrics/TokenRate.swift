import Foundation
import Coding
import Tokenizers

/// The real rate of a tokenizer's eval token stream: the tokens coded with an adaptive binary
/// arithmetic coder — order 0, and with the left and upper neighbour tokens as context — in bits
/// per raw image byte, with the order-0 empirical entropy beside it. Tokens of several words
/// (raw-patch values, residual-VQ stages) are coded as one stream per word position, each on the
/// token grid (so a raw patch value is predicted from the same value of the neighbouring patches).
public enum TokenRate {
    public struct Figures: Sendable, Equatable {
        public var order0Bits: Int
        public var contextBits: Int
        public var entropyBits: Double
        public var codedBits: Int { min(order0Bits, contextBits) }
    }

    public static func measure(_ tokens: Tokens) -> Figures {
        let S = tokens.wordsPerToken, n = tokens.count * tokens.length
        let bitsPerWord = max(1, Int(ceil(log2(Double(tokens.wordRange)))))
        var order0 = 0, context = 0, entropy = 0.0
        for s in 0..<S {
            let stream = (0..<n).map { tokens.words[$0 * S + s] }
            order0 += TokenStreamCoder.codedBits(tokens: stream, rows: tokens.gridRows, cols: tokens.gridCols, images: tokens.count, log2V: bitsPerWord, context: .order0)
            context += TokenStreamCoder.codedBits(tokens: stream, rows: tokens.gridRows, cols: tokens.gridCols, images: tokens.count, log2V: bitsPerWord, context: .neighbors)
            entropy += TokenStreamCoder.empiricalEntropyBits(tokens: stream)
        }
        return Figures(order0Bits: order0, contextBits: context, entropyBits: entropy)
    }
}
