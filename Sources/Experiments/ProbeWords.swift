// The word sequences an AR probe learns and measures (ARCHITECTURE.md, "AR probing"): the train split's
// (capped by train_images) and the eval split's, [N, T] with T = L·S, and the token shape they came in.
// A native run's come from its tokenizer; an external protocol v3 run's from its program, and they are saved
// with the run as its `probe-words` artifact so `tokbench probe --run ID` can probe it later. The file:
//   "TBWORDS1", then 7 little-endian Int64: V, L rows, L cols, S, train N, eval N, 0; then the train words and
//   the eval words as little-endian UInt32.
// It is read as hostile: the header is checked against the limits and the run's dataset before anything is
// allocated, the file's size must be exactly what the header declares, and every word must be below V.
import Foundation
import Datasets
import Tokenizers
import Probing

struct ProbeWords {
    var train: WordSequences
    var eval: WordSequences
    var shape: Tokens          // the token grid, S and V (no words)
    var encodeSeconds: Double

    static let magic = Array("TBWORDS1".utf8)

    /// Sequences of `count` images' tokens [count, L, S] → [count, L·S], checked against the shape.
    init(train: [UInt32], trainCount: Int, eval: [UInt32], evalCount: Int, shape: Tokens, encodeSeconds: Double) {
        let T = shape.length * shape.wordsPerToken
        self.train = WordSequences(count: trainCount, length: T, vocabulary: shape.wordRange, words: train)
        self.eval = WordSequences(count: evalCount, length: T, vocabulary: shape.wordRange, words: eval)
        self.shape = Tokens(count: 0, gridRows: shape.gridRows, gridCols: shape.gridCols, wordsPerToken: shape.wordsPerToken, wordRange: shape.wordRange, words: [])
        self.encodeSeconds = encodeSeconds
    }

    func write(to path: String) throws {
        var b = Self.magic
        for v in [shape.wordRange, shape.gridRows, shape.gridCols, shape.wordsPerToken, train.count, eval.count, 0] {
            var x = UInt64(bitPattern: Int64(v)).littleEndian
            withUnsafeBytes(of: &x) { b += $0 }
        }
        for w in [train.words, eval.words] { for v in w { var x = v.littleEndian; withUnsafeBytes(of: &x) { b += $0 } } }
        let part = path + ".part"
        try Data(b).write(to: URL(fileURLWithPath: part))
        guard rename(part, path) == 0 else { throw ProbeError("cannot save \(path): \(String(cString: strerror(errno)))") }
    }

    /// Reads a probe-words file for a run on `data`: at most `maxTrain` train sequences, exactly the eval split's.
    static func read(_ path: String, evalImages: Int, maxTrain: Int) throws -> ProbeWords {
        func bad(_ why: String) -> ProbeError { ProbeError("\(path): not a probe-words file of this run (\(why))") }
        guard let size = fileSize(path) else { throw ProbeError("\(path): cannot read (the run's probe-words artifact)") }
        guard size >= 64 else { throw bad("\(size) bytes") }
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        let head = [UInt8](try handle.read(upToCount: 64) ?? Data())
        guard head.count == 64, Array(head[0..<8]) == magic else { throw bad("no TBWORDS1 header") }
        let f = (0..<7).map { i in head[(8 + 8 * i)..<(16 + 8 * i)].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) } }
        guard f.allSatisfy({ $0 <= 1 << 40 }) else { throw bad("a header field out of range") }
        let (V, rows, cols, S, nTrain, nEval) = (Int(f[0]), Int(f[1]), Int(f[2]), Int(f[3]), Int(f[4]), Int(f[5]))
        let m = ProbeRunner.maxLength
        guard (2...ProbeRunner.maxVocabulary).contains(V), (1...m).contains(rows), (1...m).contains(cols), (1...m).contains(S), rows * cols * S <= m, f[6] == 0 else {
            throw bad("V = \(V), L = \(rows)×\(cols), S = \(S) past the prior's limits")
        }
        guard nEval == evalImages, (1...max(1, maxTrain)).contains(nTrain) else { throw bad("\(nTrain) train and \(nEval) eval sequences; the dataset has \(evalImages) eval and \(maxTrain) train images") }
        let T = rows * cols * S
        guard size == 64 + 4 * (nTrain + nEval) * T else { throw bad("\(size) bytes, the header declares \(64 + 4 * (nTrain + nEval) * T)") }
        let body = [UInt8](try handle.readToEnd() ?? Data())
        guard body.count == 4 * (nTrain + nEval) * T else { throw bad("it changed while read") }
        let all: [UInt32] = body.withUnsafeBytes { raw in (0..<(body.count / 4)).map { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) } }
        if let i = all.firstIndex(where: { Int($0) >= V }) { throw bad("word \(all[i]) at \(i) is not below V = \(V)") }
        let shape = Tokens(count: 0, gridRows: rows, gridCols: cols, wordsPerToken: S, wordRange: V, words: [])
        return ProbeWords(train: Array(all[0..<(nTrain * T)]), trainCount: nTrain, eval: Array(all[(nTrain * T)...]), evalCount: nEval, shape: shape, encodeSeconds: 0)
    }
}
