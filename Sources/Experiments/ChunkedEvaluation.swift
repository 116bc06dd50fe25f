// The evaluation of an external protocol v2 run (ARCHITECTURE.md, "External tokenizer protocol"): the
// program's outputs arrive chunk by chunk and go through the same accumulators as every run; after each
// chunk the whole evaluation state (the evaluator's accumulators, the data rate when it is being measured,
// the eval fingerprint and the strips) is saved to the run's folder, so a run whose program dies at chunk k
// continues at chunk k on `run --resume`. The folder is removed when the run finishes. For an AR probe of a
// version 3 program (`keepsWords`), every chunk's token words are appended to FOLDER/eval-words.u32 too: the
// probe's eval sequences, since the accumulators keep no tokens.
import Foundation
import Datasets
import Metrics
import Perceptual
import MetricCatalogue
import Tokenizers

final class ChunkedEvaluation {
    static let stateVersion = 2     // 2: the token shape (and the words spool) added; version 1 states still resume
    let folder: String
    let stateFile: String
    let images: Int, bytesPerImage: Int
    let rate: DataRateAccumulator?
    var fingerprint = SHA256Hasher()
    var strips: StripAccumulator
    var evaluator: StreamingEvaluator?      // made at the first chunk: log2 V comes with the outputs
    var log2Vocab: Double?
    var extra: [String: Double] = [:]        // metric_<name> scalars, image-weighted sums over chunks
    var nextChunk = 0
    let times = StageTimes()
    let perceptual: PerceptualSuite?
    /// The eval tokens' words, kept for an AR probe (nil: not kept): the spool file. `tokenShape`: the first
    /// chunk's token grid, S and word range (no words), which every later chunk must have.
    let wordsFile: String?
    var tokenShape: Tokens?
    /// Why the words are not kept although asked for (sequences past the prior's limits); the probe fails with it.
    var wordsRefused: String?

    /// folder: the run's own (kept across attempts); rateCoders: the data-rate coders still to measure;
    /// keepsWords: spool the eval tokens' words for an AR probe.
    init(folder: String, originals: ImageSource, rateCoders: [DataRate.Coder], perceptual: PerceptualSuite? = nil, keepsWords: Bool = false) throws {
        self.perceptual = perceptual
        self.folder = folder
        wordsFile = keepsWords ? folder + "/eval-words.u32" : nil
        stateFile = folder + "/state.bin"
        images = originals.count; bytesPerImage = originals.bytesPerImage
        rate = rateCoders.isEmpty ? nil : DataRateAccumulator(coders: rateCoders)
        strips = StripAccumulator(count: min(8, originals.count))
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if FileManager.default.fileExists(atPath: stateFile) { try restore() } else if let w = wordsFile { try? FileManager.default.removeItem(atPath: w) }
    }

    func consume(chunk k: Int, originals: ImageBatch, outputs: TokenizerOutputs) throws {
        precondition(k == nextChunk)
        // Every chunk's tokens have the first chunk's shape (checked before any accumulator sees them).
        if let t = outputs.tokens {
            if let s = tokenShape {
                guard (t.gridRows, t.gridCols, t.wordsPerToken, t.wordRange) == (s.gridRows, s.gridCols, s.wordsPerToken, s.wordRange) else {
                    throw DatasetError("out-\(String(format: "%05d", k)).npz", "its tokens are \(t.length)×\(t.wordsPerToken) words below \(t.wordRange), "
                                       + "the earlier chunks' \(s.length)×\(s.wordsPerToken) below \(s.wordRange)")
                }
            } else {
                tokenShape = Tokens(count: 0, gridRows: t.gridRows, gridCols: t.gridCols, wordsPerToken: t.wordsPerToken, wordRange: t.wordRange, words: [])
            }
        }
        if evaluator == nil {
            log2Vocab = outputs.log2Vocab
            evaluator = try StreamingEvaluator(images: images, bytesPerImage: bytesPerImage, log2Vocab: log2Vocab, hasTokens: true, times: times,
                                               spool: folder + "/token-rate", perceptual: perceptual)
        } else if outputs.log2Vocab != log2Vocab {
            throw DatasetError("out-\(String(format: "%05d", k)).npz", "log2 V is \(outputs.log2Vocab ?? .nan), the earlier chunks' is \(log2Vocab ?? .nan)")
        }
        let chunk = EvalChunk(first: evaluator!.consumed, originals: originals, reconstructions: outputs.reconstruction, tokens: outputs.tokens)
        try evaluator!.consume(chunk, seconds: outputs.seconds)
        try times.time("data rate") { try rate?.consume(originals) }
        times.time("fingerprint") { fingerprint.update(originals.pixels) }
        strips.consume(chunk)
        if let w = wordsFile, let t = outputs.tokens { try appendWords(t, to: w) }
        for (m, v) in outputs.extra { extra[m.key, default: 0] += v * Double(originals.count) }
        nextChunk = k + 1
        try save()
    }

    /// The evaluator's report with the program's own metrics (means over images), the data rate measured here.
    func finish() throws -> (EvaluationReport, [DataRate.Measurement], String, StripAccumulator) {
        guard let evaluator else { throw DatasetError(folder, "no chunk was evaluated") }
        let extras: [MetricValue] = extra.keys.sorted().map { (Metric.external(String($0.dropFirst("metric_".count))), extra[$0]! / Double(images)) }
        let report = try evaluator.finish(extra: extras)
        return (report, rate?.measurements ?? [], fingerprint.finishHex(), strips)
    }

    func removeFolder() { try? FileManager.default.removeItem(atPath: folder) }

    // MARK: the eval words (AR probing)

    /// Appends a chunk's words, unless the sequences are past the prior's limits (T ≤ maxLength, V ≤
    /// maxVocabulary): then nothing is spooled and the probe fails with the reason, not the evaluation.
    func appendWords(_ t: Tokens, to path: String) throws {
        if let why = ProbeRunner.limitViolation(T: t.length * t.wordsPerToken, V: t.wordRange) {
            wordsRefused = why
            try? FileManager.default.removeItem(atPath: path)
            return
        }
        if !FileManager.default.fileExists(atPath: path) { guard FileManager.default.createFile(atPath: path, contents: nil) else { throw DatasetError(path, "cannot create") } }
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: t.words.withUnsafeBytes { Data($0) })   // little-endian hosts only, like the other spools
    }

    /// The eval split's words [N, L·S] and their token shape, once every chunk is in (nil: not kept, or no chunk).
    /// The spool is read as untrusted (it sits beside state.bin): its size is checked before it is read, and every word against V.
    func evalWords() throws -> (words: [UInt32], shape: Tokens)? {
        if let why = wordsRefused { throw ProbeError(why) }
        guard let path = wordsFile, let s = tokenShape else { return nil }
        let want = images * s.length * s.wordsPerToken
        let size = fileSize(path) ?? 0
        guard size == want * 4 else { throw DatasetError(path, "holds \(size / 4) words, expected \(want) (the eval split's tokens)") }
        let bytes = try readFileBytes(path)
        guard bytes.count == want * 4 else { throw DatasetError(path, "changed while read") }
        let words = bytes.withUnsafeBytes { Array($0.bindMemory(to: UInt32.self)) }
        if let i = words.firstIndex(where: { Int($0) >= s.wordRange }) { throw DatasetError(path, "word \(words[i]) at \(i) is not below V = \(s.wordRange)") }
        return (words, s)
    }

    // MARK: state

    func save() throws {
        var w = StateWriter()
        w.int(Self.stateVersion); w.int(images); w.int(bytesPerImage); w.int(nextChunk)
        w.int(log2Vocab == nil ? 0 : 1); w.double(log2Vocab ?? 0)
        try evaluator!.save(&w)
        w.int(rate?.measurements.count ?? 0); rate?.save(&w)
        let fs = fingerprint.state
        w.int(fs.count); for x in fs { w.int(x) }
        w.int(strips.originals?.count ?? 0)
        if let o = strips.originals, let r = strips.reconstructions { w.int(o.channels); w.int(o.height); w.int(o.width); w.raw(o.pixels); w.raw(r.pixels) }
        w.int(extra.count); for k in extra.keys.sorted() { w.raw(Array(k.utf8)); w.double(extra[k]!) }
        let ws = tokenShape
        w.int(ws == nil ? 0 : 1); w.int(ws?.gridRows ?? 0); w.int(ws?.gridCols ?? 0); w.int(ws?.wordsPerToken ?? 0); w.int(ws?.wordRange ?? 0)
        let part = stateFile + ".part"
        try Data(w.bytes).write(to: URL(fileURLWithPath: part))
        guard rename(part, stateFile) == 0 else { throw DatasetError(stateFile, "cannot save: \(String(cString: strerror(errno)))") }
    }

    func restore() throws {
        var r = StateReader(try readFileBytes(stateFile), path: stateFile)
        let version = try r.int()     // 1: saved before the token shape was (no words were kept)
        guard version == 1 || version == Self.stateVersion, try r.int() == images, try r.int() == bytesPerImage else {
            throw DatasetError(stateFile, "was saved for another eval split or tokbench version (delete the folder to start over)")
        }
        nextChunk = try r.int()
        let hasV = try r.int() == 1, v = try r.double()
        log2Vocab = hasV ? v : nil
        evaluator = try StreamingEvaluator(images: images, bytesPerImage: bytesPerImage, log2Vocab: log2Vocab, hasTokens: true, times: times,
                                           spool: folder + "/token-rate", perceptual: perceptual)
        try evaluator!.restore(&r)
        // The data rate being measured with the chunks: restored, or dropped when another run has cached the
        // split's rate meanwhile (a rate still missing that was not being measured cannot be finished here).
        let savedCoders = try r.int()
        if let rate, savedCoders == rate.measurements.count {
            try rate.restore(&r)
        } else if rate == nil {
            for _ in 0..<savedCoders { _ = try r.int(); _ = try r.int(); _ = try r.double() }
        } else {
            throw DatasetError(stateFile, "the split's data rate is no longer cached, so the chunks already measured lack it (delete the folder to start over)")
        }
        let n = try r.int()
        guard (9..<(9 + 64)).contains(n) else { throw r.fail() }
        fingerprint = try SHA256Hasher(state: (0..<n).map { _ in try r.int() })
        let stripCount = try r.int()
        if stripCount > 0 {
            let c = try r.int(), h = try r.int(), w = try r.int()
            let o = try r.raw(), rc = try r.raw()
            guard c > 0, h > 0, w > 0, o.count == stripCount * c * h * w, rc.count == o.count else { throw r.fail() }
            strips.originals = ImageBatch(count: stripCount, channels: c, height: h, width: w, pixels: o)
            strips.reconstructions = ImageBatch(count: stripCount, channels: c, height: h, width: w, pixels: rc)
        }
        for _ in 0..<(try r.int()) { extra[String(decoding: try r.raw(), as: UTF8.self)] = try r.double() }
        let hasShape = version >= 2 ? try r.int() == 1 : false
        let (gr, gc, ws, wr) = version >= 2 ? (try r.int(), try r.int(), try r.int(), try r.int()) : (0, 0, 0, 0)
        guard r.atEnd, nextChunk >= 0, evaluator!.consumed <= images else { throw r.fail() }
        if hasShape {
            // bounded (a chunk's tokens hold at most maxWordsPerImage words per image, a word range ≤ 2^32); the
            // products are checked in order, so none overflows
            let m = 1 << 26
            guard (1...m).contains(gr), (1...m).contains(gc), (1...m).contains(ws), (2...(1 << 32)).contains(wr),
                  gr * gc <= m, gr * gc * ws <= m else { throw r.fail() }
            tokenShape = Tokens(count: 0, gridRows: gr, gridCols: gc, wordsPerToken: ws, wordRange: wr, words: [])
        }
        // The words spool: cut back to the chunks the state holds (an attempt may have appended one more).
        if let path = wordsFile {
            let T = tokenShape.map { $0.length * $0.wordsPerToken } ?? 0
            wordsRefused = tokenShape.flatMap { ProbeRunner.limitViolation(T: T, V: $0.wordRange) }
            let keep = evaluator!.consumed * (wordsRefused == nil ? T : 0) * 4
            let size = fileSize(path) ?? 0
            if size < keep {   // the earlier attempt did not keep them (another version, or no [ar_probe] then): the probe fails, the evaluation goes on
                wordsRefused = "the eval tokens of the \(nextChunk) chunks before the resume were not kept (\(path) holds \(size / 4) words)"
            }
            if wordsRefused != nil || keep == 0 {
                try? FileManager.default.removeItem(atPath: path)
            } else if size > keep {
                guard truncate(path, off_t(keep)) == 0 else { throw DatasetError(path, "cannot cut back") }
            }
        }
    }
}
