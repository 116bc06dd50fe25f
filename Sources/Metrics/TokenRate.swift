import Foundation
import Coding
import Tokenizers
import Datasets
import MetricCatalogue

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

/// The token rate chunk by chunk. Each word position is its own stream (see `TokenRate`), so the words of
/// every position are spooled to a file of their own as chunks arrive (1, 2 or 4 bytes a word) and coded
/// one position at a time at the end: memory holds one position's coders and one block of its words,
/// whatever the number of images; disk holds N·L·S words until `finish`.
public final class TokenRateAccumulator: MetricAccumulator {
    let images: Int, bytes: Double
    var spool: [FileHandle] = []
    var paths: [String] = []
    let directory: String
    var rows = 0, cols = 0, wordRange = 0, wordBytes = 4
    var entropyCounts: [[UInt32: Int]] = []

    let ownsDirectory: Bool
    var written: [Int] = []          // bytes appended to each position's spool file

    /// images: N of the whole split; bytesPerImage: C·H·W. directory: where the spool lives (a resumable
    /// evaluation's folder, kept until `finish`); nil: a fresh temporary folder, removed with the accumulator.
    public init(images: Int, bytesPerImage: Int, directory: String? = nil) throws {
        self.images = images; bytes = Double(images * bytesPerImage)
        ownsDirectory = directory == nil
        self.directory = directory ?? NSTemporaryDirectory() + "tokbench-token-rate-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: directory != nil)
    }

    deinit {
        for h in spool { try? h.close() }
        if ownsDirectory { try? FileManager.default.removeItem(atPath: directory) }
    }

    func removeSpool() {
        for h in spool { try? h.close() }
        spool = []
        for p in paths { try? FileManager.default.removeItem(atPath: p) }
        if ownsDirectory { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// Opens (creating, or truncating to `lengths` when resuming) one spool file per word position.
    func openSpool(positions S: Int, lengths: [Int]? = nil) throws {
        spool = []; paths = []; written = []
        for s in 0..<S {
            let p = directory + "/position-\(s).words"
            if lengths == nil || !FileManager.default.fileExists(atPath: p) {
                guard FileManager.default.createFile(atPath: p, contents: nil) else { throw DatasetError(p, "cannot create the token-rate spool file") }
            }
            guard let h = FileHandle(forWritingAtPath: p) else { throw DatasetError(p, "cannot open the token-rate spool file") }
            let length = lengths?[s] ?? 0
            try h.truncate(atOffset: UInt64(length))
            try h.seekToEnd()
            guard try h.offset() == UInt64(length) else { throw DatasetError(p, "the token-rate spool file is shorter than its saved state") }
            spool.append(h); paths.append(p); written.append(length)
        }
    }

    public func save(_ w: inout StateWriter) throws {
        for h in spool { try h.synchronize() }
        w.int(rows); w.int(cols); w.int(wordRange); w.int(wordBytes); w.int(spool.count)
        for s in 0..<spool.count { w.int(written[s]); w.counts(entropyCounts[s]) }
    }

    public func restore(_ r: inout StateReader) throws {
        rows = try r.int(); cols = try r.int(); wordRange = try r.int(); wordBytes = try r.int()
        let S = try r.int()
        var lengths: [Int] = []
        entropyCounts = []
        for _ in 0..<S { lengths.append(try r.int()); entropyCounts.append(try r.counts()) }
        if S > 0 { try openSpool(positions: S, lengths: lengths) }
    }

    public func consume(_ chunk: EvalChunk) throws {
        guard let t = chunk.tokens else { return }
        let S = t.wordsPerToken, n = t.count * t.length
        if spool.isEmpty {
            rows = t.gridRows; cols = t.gridCols; wordRange = t.wordRange
            wordBytes = wordRange <= 256 ? 1 : wordRange <= 65536 ? 2 : 4
            entropyCounts = [[UInt32: Int]](repeating: [:], count: S)
            try openSpool(positions: S)
        }
        precondition(spool.count == S && rows == t.gridRows && cols == t.gridCols, "every chunk's tokens have the same shape")
        var block = [UInt8](repeating: 0, count: n * wordBytes)
        for s in 0..<S {
            for i in 0..<n {
                let w = t.words[i * S + s]
                entropyCounts[s][w, default: 0] += 1
                for b in 0..<wordBytes { block[i * wordBytes + b] = UInt8(truncatingIfNeeded: w >> (8 * b)) }
            }
            try spool[s].write(contentsOf: block)
            written[s] += block.count
        }
    }

    public func finish() throws -> Accumulated {
        guard !spool.isEmpty else { return Accumulated() }
        defer { removeSpool() }
        let bitsPerWord = max(1, Int(ceil(log2(Double(wordRange)))))
        let perImage = rows * cols, total = images * perImage
        var order0 = 0, context = 0, entropy = 0.0
        for s in 0..<spool.count {
            try spool[s].close()
            guard let h = FileHandle(forReadingAtPath: paths[s]) else { throw DatasetError(paths[s], "cannot read the token-rate spool file") }
            defer { try? h.close() }
            var m0 = TokenStreamMeter(totalTokens: total, rows: rows, cols: cols, log2V: bitsPerWord, context: .order0)
            var m1 = TokenStreamMeter(totalTokens: total, rows: rows, cols: cols, log2V: bitsPerWord, context: .neighbors)
            let imagesPerBlock = max(1, (1 << 22) / max(1, perImage))
            var done = 0
            while done < images {
                let k = min(imagesPerBlock, images - done)
                guard let data = try h.read(upToCount: k * perImage * wordBytes), data.count == k * perImage * wordBytes else {
                    throw DatasetError(paths[s], "the token-rate spool file is short")
                }
                var words = [UInt32](repeating: 0, count: k * perImage)
                data.withUnsafeBytes { raw in
                    for i in 0..<words.count {
                        var w: UInt32 = 0
                        for b in 0..<wordBytes { w |= UInt32(raw[i * wordBytes + b]) << (8 * b) }
                        words[i] = w
                    }
                }
                m0.consume(words); m1.consume(words)
                done += k
            }
            order0 += m0.finish(); context += m1.finish()
            entropy += TokenStreamCoder.empiricalEntropyBits(counts: entropyCounts[s], total: total)
        }
        let f = TokenRate.Figures(order0Bits: order0, contextBits: context, entropyBits: entropy)
        return Accumulated(values: [(.tokenRateBPB, Double(f.codedBits) / bytes), (.tokenRateOrder0BPB, Double(f.order0Bits) / bytes),
                                    (.tokenRateContextBPB, Double(f.contextBits) / bytes), (.tokenEntropyBPB, f.entropyBits / bytes)])
    }
}
