// An external tokenizer: a program in any language that follows tokbench's external protocol
// (ARCHITECTURE.md, "External tokenizer protocol"). Version 1, below; version 2 (`runChunked`) is the same
// exchange chunk by chunk, measured as it arrives and resumable; version 3 is version 2 plus the AR probe's
// encode request (`encode`: the train images whose tokens the program writes to encode-out.npz) and a decode
// request (`decode`: an AR probe's samples, decoded by the program). Version 1: tokbench writes the eval images (and,
// with `train = true`, the train images) as uint8 .npy files [N, H, W, C] into a fresh directory,
// runs the program (no shell) from the experiment file's directory with
//   --images PATH --out PATH [--train-images PATH --seed S] [--key=value for every args key]
// and reads out.npz: `tokens` (integers [N, L] or [N, L, W]), `reconstructions` (uint8 [N, H, W, C]),
// `vocab_size` (integer, or [W] equal integers) or `log2_vocab` (float), and optional float scalars
// `metric_<name>`. Everything else (PSNR, usage, rate, budget, …) the one evaluator measures.
import Foundation
import Datasets
import MetricCatalogue
import Settings

public final class ExternalProgram {
    public static let kind = "external"

    public struct Options: Sendable, DeclaredOptions {
        public var command: [String] = []
        public var train = false
        public var timeoutSeconds = 0
        public var version = 1
        public var chunkImages = 1000
        public static let unset = Options()
        private init() {}
        public static var options: [Option<Options>] {
            [
                .strings("command", \.command, default: nil, "program and arguments, e.g. [\"python3\", \"my_tokenizer.py\"], run from the experiment file's folder"),
                .bool("train", \.train, default: false, "also pass --train-images PATH --seed S: the program trains first"),
                .int("timeout_s", \.timeoutSeconds, default: 3600, "seconds before the program is stopped and the run fails", check: ConfigKey.intIn(1...(30 * 86400))),
                .int("protocol", \.version, default: 1, "1: the eval split as one images.npy, one out.npz; 2: chunks of chunk_images, measured as they arrive, resumable; 3: version 2, and an [ar_probe]'s requests (train tokens: encode-images.npy → encode-out.npz; samples to decode: decode-tokens.npy → decode-out.npz)", check: ConfigKey.intIn(1...3)),
                .int("chunk_images", \.chunkImages, default: 1000, "images per chunk (protocol 2 and 3)", check: ConfigKey.intIn(1...1_000_000)),
            ]
        }
    }

    public static let entry = TokenizerEntry(
        kind: kind,
        summary: "a program in any language (protocol v1, v2 or v3, ARCHITECTURE.md): reads images.npy (v2, v3: chunk by chunk), writes out.npz (tokens, reconstructions, vocab_size)",
        labelKeys: { _ in [] },
        keys: Options.keys,
        openPrefix: "args.", quietKeys: ["timeout_s", "protocol", "chunk_images"],
        needsTrainImages: { c in c.values["train"] == .bool(true) },
        validate: { c, _ in
            let o = try decodeOptions(Options.self, from: c.values)
            guard !o.command.isEmpty, !o.command[0].isEmpty else { throw ConfigError(key: "command", "must name a program") }
        },
        make: { c, _, _, directory in .external(try ExternalProgram(config: c, directory: directory)) })

    public let options: Options
    public let args: [(key: String, value: ConfigValue)]
    public let directory: String

    /// config: resolved (TokenizerRegistry.resolve); directory: where the command runs.
    public init(config: TokenizerConfig, directory: String) throws {
        options = try decodeOptions(Options.self, from: config.values)
        args = config.values.keys.filter { $0.hasPrefix("args.") }.sorted().map { (String($0.dropFirst(5)), config.values[$0]!) }
        self.directory = directory
    }

    /// A failure of the program or of its output, in one line (with the program's last stderr lines).
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs the program on `eval` (training on `train` first when the options say so) and returns its
    /// outputs, checked against the protocol. `log` receives the program's stderr and stdout lines.
    public func run(train: (any ImageSource)?, eval: ImageBatch, seed: UInt64, log: @escaping (String) -> Void) throws -> TokenizerOutputs {
        let fm = FileManager.default
        let dir = NSTemporaryDirectory() + "tokbench-external-\(getpid())-\(UUID().uuidString)"
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: dir) }
        let images = dir + "/images.npy", out = dir + "/out.npz"
        try Data(Self.npy(eval)).write(to: URL(fileURLWithPath: images))
        let arguments = options.command + ["--images", images, "--out", out] + (try trainingAndArgs(train: train, seed: seed, folder: dir))
        let start = Date()
        let stderrTail = try Self.execute(arguments, in: directory, timeout: options.timeoutSeconds, log: log)
        let seconds = Date().timeIntervalSince(start)
        do {
            return try Self.readOutputs(out, eval: eval, seconds: seconds)
        } catch {
            throw Failure(description: "\(error)" + (stderrTail.isEmpty ? "" : "; program stderr: " + stderrTail))
        }
    }

    /// Protocol v2: the eval split in chunks of `chunk_images` (ARCHITECTURE.md, "External tokenizer protocol").
    /// tokbench writes `eval-K.npy` (K = 00000, 00001, …) into `folder` at most two chunks ahead of the one it
    /// is measuring; the program, started once with `--protocol 2 --chunks DIR --chunk-count N --first-chunk K`,
    /// writes `out-K.npz` for each chunk in turn (renamed into place when complete). Each output is checked
    /// against its chunk and handed to `measure(k, originals, outputs)` as it arrives, then both files are
    /// deleted: disk holds at most three chunks. Starts at `firstChunk` (a resumed run); a program that ends
    /// before the last chunk fails the run, saying where `run --resume` will continue.
    /// Version 3 with `encode` (the train images an AR probe learns the tokens of): tokbench writes them to
    /// FOLDER/encode-images.npy and adds `--encode-images PATH --encode-out PATH`; the program writes the
    /// images' `tokens` to encode-out.npz before it exits, which is moved, unread, to `encodedTo` (the caller
    /// checks it against the eval tokens: a bad one fails the probe, not the run's evaluation).
    public func runChunked(train: (any ImageSource)?, eval: ImageSource, firstChunk: Int, seed: UInt64, folder: String,
                           encode: (any ImageSource)? = nil, encodedTo: String? = nil,
                           log: @escaping (String) -> Void,
                           measure: (Int, ImageBatch, TokenizerOutputs) throws -> Void) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let size = options.chunkImages
        let count = (eval.count + size - 1) / size
        func name(_ prefix: String, _ k: Int, _ ext: String) -> String { folder + "/" + prefix + "-" + String(format: "%05d", k) + "." + ext }
        func range(_ k: Int) -> Range<Int> { (k * size)..<min(eval.count, (k + 1) * size) }
        // Leftovers of an earlier attempt are not this attempt's outputs.
        for f in (try? fm.contentsOfDirectory(atPath: folder)) ?? [] where f.hasPrefix("eval-") || f.hasPrefix("out-") {
            try? fm.removeItem(atPath: folder + "/" + f)
        }
        var written: [Int: ImageBatch] = [:]     // chunks on disk, not yet measured (at most two)
        var next = firstChunk, failure: Error? = nil
        func writeAhead() throws {
            var k = next
            while k < count && k < next + 2 {
                if written[k] == nil {
                    let b = try eval.read(range(k))
                    let part = name("eval", k, "npy.part")
                    try Data(Self.npy(b)).write(to: URL(fileURLWithPath: part))
                    guard rename(part, name("eval", k, "npy")) == 0 else { throw Failure(description: "cannot rename \(part): \(String(cString: strerror(errno)))") }
                    written[k] = b
                }
                k += 1
            }
        }
        /// Measures every finished output that is next in line; false once something failed.
        func collect(seconds: Double) -> Bool {
            do {
                while next < count, let chunk = written[next], fm.fileExists(atPath: name("out", next, "npz")) {
                    let outputs = try Self.readOutputs(name("out", next, "npz"), eval: chunk, seconds: seconds)
                    try measure(next, chunk, outputs)
                    try? fm.removeItem(atPath: name("out", next, "npz")); try? fm.removeItem(atPath: name("eval", next, "npy"))
                    written[next] = nil
                    next += 1
                    try writeAhead()
                }
                return true
            } catch { failure = error; return false }
        }
        try writeAhead()
        var arguments = options.command + ["--protocol", String(max(2, options.version)), "--chunks", folder, "--chunk-count", String(count),
                                           "--chunk-images", String(size), "--first-chunk", String(firstChunk)]
        let encodeImages = folder + "/encode-images.npy", encodeOut = folder + "/encode-out.npz"
        try? fm.removeItem(atPath: encodeOut)
        if let encode, options.version >= 3 {
            try Self.writeNPY(encode, to: encodeImages, chunk: size)
            arguments += ["--encode-images", encodeImages, "--encode-out", encodeOut]
        }
        arguments += try trainingAndArgs(train: train, seed: seed, folder: folder)
        defer { for f in ["/train_images.npy", "/encode-images.npy", "/encode-out.npz"] { try? fm.removeItem(atPath: folder + f) } }
        var start = Date()
        let measureAndRestart = { () -> Bool in
            let ok = collect(seconds: Date().timeIntervalSince(start))
            start = Date()
            return ok
        }
        let name0 = options.command.first ?? "program"
        let outcome: ChildProcess.Outcome
        do {
            outcome = try ChildProcess.run(arguments, in: directory, timeout: Double(options.timeoutSeconds), tick: measureAndRestart) { line, _ in log("  [\(name0)] " + line) }
        } catch { throw Failure(description: "\(error)") }
        if failure == nil { _ = collect(seconds: Date().timeIntervalSince(start)) }   // what it wrote just before it exited
        let last = outcome.stderrTail.joined(separator: " | ")
        let suffix = last.isEmpty ? "" : "; last stderr: " + last
        if let failure { throw Failure(description: "chunk \(next) of \(count): \(failure)" + suffix) }
        let resume = next < count ? " after \(next) of \(count) chunks (run --resume continues at chunk \(next))" : ""
        switch outcome.end {
        case .timedOut: throw Failure(description: "\(name0) timed out after \(options.timeoutSeconds) s (timeout_s)" + resume + suffix)
        case .signaled(let sig): throw Failure(description: "\(name0) was killed by signal \(sig)" + resume + suffix)
        case .exited(let code) where code != 0: throw Failure(description: "\(name0) exited with status \(code)" + resume + suffix)
        case .stopped: throw Failure(description: "\(name0) was stopped" + resume + suffix)
        case .exited:
            if next < count { throw Failure(description: "\(name0) exited" + resume + " without writing \((name("out", next, "npz") as NSString).lastPathComponent)" + suffix) }
        }
        if encode != nil, let to = encodedTo, fm.fileExists(atPath: encodeOut) {   // (a failed move leaves the probe without train tokens, not the run)
            try? fm.removeItem(atPath: to)
            if rename(encodeOut, to) != 0 { log("  cannot move \(encodeOut) to \(to): \(String(cString: strerror(errno)))") }
        }
    }

    /// Protocol 3's decode request (an AR probe's samples): tokbench writes `tokens` (int32 [n, L] or [n, L, W],
    /// the run's token shape) to decode-tokens.npy and runs the program once with
    /// `--protocol 3 --decode-tokens PATH --decode-out PATH --decode-height H --decode-width W --decode-channels C`
    /// (plus `--train-images PATH --seed S` with train = true, the file written once per `ExternalDecoder`, and
    /// the args); it writes `reconstructions` (uint8 [n, H, W, C]) to decode-out.npz, checked header first
    /// (dtype and exact shape) like out.npz. Bounded by timeout_s like a run.
    public final class ExternalDecoder {
        let program: ExternalProgram
        let train: (any ImageSource)?
        let seed: UInt64
        let height: Int, width: Int, channels: Int
        let log: (String) -> Void
        /// A fresh directory per decoder: the train split written there once (at the first call), removed with it.
        let dir = NSTemporaryDirectory() + "tokbench-external-\(getpid())-\(UUID().uuidString)"
        var trainArguments: [String]?

        public init(_ program: ExternalProgram, train: (any ImageSource)?, seed: UInt64, height: Int, width: Int, channels: Int, log: @escaping (String) -> Void) {
            self.program = program; self.train = train; self.seed = seed
            self.height = height; self.width = width; self.channels = channels; self.log = log
        }
        deinit { try? FileManager.default.removeItem(atPath: dir) }

        public func decode(_ tokens: Tokens) throws -> ImageBatch {
            guard program.options.version >= 3 else { throw Failure(description: "protocol \(program.options.version) has no decode request (protocol = 3 has)") }
            let fm = FileManager.default
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            if trainArguments == nil { trainArguments = try program.trainingAndArgs(train: train, seed: seed, folder: dir) }
            let input = dir + "/decode-tokens.npy", out = dir + "/decode-out.npz"
            defer { try? fm.removeItem(atPath: input); try? fm.removeItem(atPath: out) }
            try? fm.removeItem(atPath: out)
            let shape = tokens.wordsPerToken == 1 ? [tokens.count, tokens.length] : [tokens.count, tokens.length, tokens.wordsPerToken]
            try Data(encodeNPY(int32: tokens.words.map { Int32(truncatingIfNeeded: $0) }, shape: shape)).write(to: URL(fileURLWithPath: input))
            let (H, W, C, N) = (height, width, channels, tokens.count)
            let arguments = program.options.command + ["--protocol", "3", "--decode-tokens", input, "--decode-out", out,
                                                       "--decode-height", String(H), "--decode-width", String(W), "--decode-channels", String(C)] + trainArguments!
            let stderrTail = try ExternalProgram.execute(arguments, in: program.directory, timeout: program.options.timeoutSeconds, log: log)
            let file = "decode-out.npz"
            do {
                guard fm.fileExists(atPath: out) else { throw Failure(description: "the program wrote no \(file) (protocol 3: the AR probe's samples to decode)") }
                let a = try ExternalProgram.array(out, file: file, key: "reconstructions", keys: try npzKeys(path: out)) { h in
                    guard h.isUInt8 else { throw Failure(description: "\(file) 'reconstructions' has dtype '\(h.descr)', expected uint8") }
                    guard h.shape == [N, H, W, C] else { throw Failure(description: "\(file) 'reconstructions' has shape \(h.shape), expected [\(N), \(H), \(W), \(C)] (the samples; H, W, C of the images)") }
                }
                return try ImageBatch(hwc: a, path: out, name: "reconstructions")
            } catch {
                throw Failure(description: "\(error)" + (stderrTail.isEmpty ? "" : "; program stderr: " + stderrTail))
            }
        }
    }

    /// The train tokens of a version 3 program (encode-out.npz, moved to `path`): `tokens` integers [M, L] or
    /// [M, L, W] for the M images it was given, L and W those of the eval tokens, every word below `wordRange`.
    /// The header is checked before the entry is inflated (at most M·L·W words).
    public static func readEncoded(_ path: String, images M: Int, length L: Int, wordsPerToken S: Int, wordRange V: Int) throws -> [UInt32] {
        let file = "encode-out.npz"
        guard FileManager.default.fileExists(atPath: path) else { throw Failure(description: "the program wrote no \(file) (protocol 3: the train tokens the AR probe asked for)") }
        let want = S == 1 ? [M, L] : [M, L, S]
        let t = try array(path, file: file, key: "tokens", keys: try npzKeys(path: path)) { h in
            guard h.shape == want || (S == 1 && h.shape == [M, L, 1]) else {
                throw Failure(description: "\(file) 'tokens' has shape \(h.shape), expected \(want) (the \(M) train images; L and W of the eval tokens)")
            }
        }
        guard let tv = t.integers else { throw Failure(description: "\(file) 'tokens' has dtype '\(t.dtype)', expected integers") }
        if let bad = tv.firstIndex(where: { $0 < 0 || $0 >= V }) {
            throw Failure(description: "\(file) 'tokens' holds \(tv[bad]) at flat index \(bad), outside 0..<\(V) (the eval tokens' word range)")
        }
        return tv.map { UInt32($0) }
    }

    /// The arguments both protocol versions end with: with `train = true`, the train split written to
    /// FOLDER/train_images.npy (streamed a chunk at a time) and `--train-images PATH --seed S`; then
    /// `--key=value` for every args key.
    func trainingAndArgs(train: (any ImageSource)?, seed: UInt64, folder: String) throws -> [String] {
        var arguments: [String] = []
        if options.train {
            guard let train, train.count > 0 else { throw Failure(description: "train = true but the dataset has no train images") }
            let trainPath = folder + "/train_images.npy"
            try Self.writeNPY(train, to: trainPath, chunk: options.chunkImages)
            arguments += ["--train-images", trainPath, "--seed", String(seed)]
        }
        return arguments + args.map { "--\($0.key)=\($0.value)" }
    }

    /// A source [N, C, H, W] → an .npy file of uint8 [N, H, W, C], `chunk` images (at most 256 MiB of them)
    /// read and written at a time: the same bytes as `npy` of the whole split, with memory for one chunk.
    static func writeNPY(_ source: any ImageSource, to path: String, chunk: Int) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
            throw Failure(description: "\(path): cannot create the file")
        }
        defer { try? h.close() }
        let step = max(1, min(chunk, (256 << 20) / max(1, source.bytesPerImage)))
        do {
            try h.write(contentsOf: npyHeader(descr: "|u1", shape: [source.count, source.height, source.width, source.channels]))
            var start = 0
            while start < source.count {
                let b = try source.read(start..<min(source.count, start + step))
                var hwc: [UInt8] = []; hwc.reserveCapacity(b.pixels.count)
                for i in 0..<b.count { hwc += b.interleaved(i) }
                try h.write(contentsOf: hwc)
                start += b.count
            }
        } catch let e as DatasetError { throw e } catch {
            throw Failure(description: "\(path): cannot write: \(error.localizedDescription)")
        }
    }

    /// images [N, C, H, W] → .npy bytes of uint8 [N, H, W, C].
    static func npy(_ b: ImageBatch) -> [UInt8] {
        var hwc: [UInt8] = []
        hwc.reserveCapacity(b.pixels.count)
        for i in 0..<b.count { hwc += b.interleaved(i) }
        return encodeNPY(uint8: hwc, shape: [b.count, b.height, b.width, b.channels])
    }

    /// Runs argv (through /usr/bin/env, which execs it: no shell) in its own process group, streaming its
    /// output lines to `log` (ChildProcess: bounded waits, nothing left running). A non-zero exit or a
    /// timeout throws with the last stderr lines; otherwise returns those lines. Completion is the
    /// program's own exit: a child it leaves behind is stopped and does not hold the run.
    static func execute(_ argv: [String], in directory: String, timeout: Int, grace: Double = 5, log: @escaping (String) -> Void) throws -> String {
        let name = argv.first ?? "program"
        let prefix = "  [\(name)] "
        let outcome: ChildProcess.Outcome
        do {
            outcome = try ChildProcess.run(argv, in: directory, timeout: Double(timeout), grace: grace) { line, _ in log(prefix + line) }
        } catch { throw Failure(description: "\(error)") }
        let last = outcome.stderrTail.joined(separator: " | ")
        let suffix = last.isEmpty ? "" : "; last stderr: " + last
        if outcome.leftovers > 0 { log(prefix + "stopped \(outcome.leftovers) process(es) the program left running") }
        switch outcome.end {
        case .timedOut: throw Failure(description: "\(name) timed out after \(timeout) s (timeout_s)" + suffix)
        case .signaled(let s): throw Failure(description: "\(name) was killed by signal \(s)" + suffix)
        case .exited(let code) where code != 0: throw Failure(description: "\(name) exited with status \(code)" + suffix)
        case .stopped: throw Failure(description: "\(name) was stopped" + suffix)
        case .exited: return last
        }
    }

    /// Array `key` of a program's npz (`file` names it in errors), its header passed to `check` before the entry is
    /// inflated; a missing key is one line listing the keys there are.
    static func array(_ path: String, file: String, key: String, keys: [String], check: (NPYHeader) throws -> Void) throws -> NumericArray {
        guard keys.contains(key) else { throw Failure(description: "\(file) has no '\(key)' (keys: \(keys.joined(separator: ", ")))") }
        return try readNPZNumeric(path: path, key: key, check: check)
    }

    /// The most token words per image an out.npz may hold: 4·H·W·C (four words per pixel value), at least 65,536.
    public static func maxWordsPerImage(height: Int, width: Int, channels: Int) -> Int { max(4 * height * width * channels, 1 << 16) }

    /// out.npz → outputs, checked: the keys, shapes and dtypes, N and the image geometry, tokens below V.
    static func readOutputs(_ path: String, eval: ImageBatch, seconds: Double) throws -> TokenizerOutputs {
        guard FileManager.default.fileExists(atPath: path) else { throw Failure(description: "the program wrote no \((path as NSString).lastPathComponent)") }
        let keys = try npzKeys(path: path)
        let N = eval.count, H = eval.height, W = eval.width, C = eval.channels
        // Each array's header is checked before it is inflated: a small out.npz cannot ask for more
        // than the eval split needs (reconstructions: exactly N·H·W·C bytes; tokens: at most
        // `maxWordsPerImage` words per image; scalars: a few values).
        func need(_ k: String, maxElements: Int, shape: [Int]? = nil) throws -> NumericArray {
            return try Self.array(path, file: "out.npz", key: k, keys: keys) { h in
                if shape != nil && k == "reconstructions" && !h.isUInt8 {
                    throw Failure(description: "out.npz 'reconstructions' must be uint8 images [N, H, W, C] with C = 1 or 3, got dtype '\(h.descr)' (checked before it is inflated)")
                }
                if let want = shape, h.shape != want {
                    throw Failure(description: "out.npz '\(k)' has shape \(h.shape), expected \(want) (N, H, W, C of the eval images)")
                }
                let count = try h.elementCount(path: path, name: k)
                guard count <= maxElements else {
                    throw Failure(description: "out.npz '\(k)' declares shape \(h.shape): \(count) values, more than the \(maxElements) it may hold for \(N) eval images")
                }
            }
        }
        let maxWords = N * Self.maxWordsPerImage(height: H, width: W, channels: C)
        // reconstructions: uint8 [N, H, W, C]
        let recon = try ImageBatch(hwc: try need("reconstructions", maxElements: N * H * W * C, shape: [N, H, W, C]), path: path, name: "reconstructions")
        guard (recon.count, recon.height, recon.width, recon.channels) == (N, H, W, C) else {
            throw Failure(description: "out.npz 'reconstructions' has shape [\(recon.count), \(recon.height), \(recon.width), \(recon.channels)], "
                          + "expected [\(N), \(H), \(W), \(C)] (N, H, W, C of the eval images)")
        }
        // tokens: integers [N, L] or [N, L, S]
        let t = try need("tokens", maxElements: maxWords)
        guard let tv = t.integers else { throw Failure(description: "out.npz 'tokens' has dtype '\(t.dtype)', expected integers") }
        guard (t.shape.count == 2 || t.shape.count == 3), t.shape[0] == N, t.shape[1] >= 1, t.shape.count == 2 || t.shape[2] >= 1 else {
            throw Failure(description: "out.npz 'tokens' has shape \(t.shape), expected [\(N), L] or [\(N), L, W]")
        }
        let S = t.shape.count == 3 ? t.shape[2] : 1
        // vocabulary: vocab_size (scalar or [S] equal) or log2_vocab
        var wordRange: Int64, log2V: Double, source: String
        if keys.contains("vocab_size") {
            let v = try need("vocab_size", maxElements: 4096)
            guard let vs = v.integers, v.shape == [] || v.shape == [S], let first = vs.first, first >= 2, vs.allSatisfy({ $0 == first }) else {
                throw Failure(description: "out.npz 'vocab_size' must be an integer ≥ 2 (or \(S) equal integers), got \(v.shape) \(v.dtype)")
            }
            wordRange = first; source = "vocab_size \(first)"
            log2V = Double(S) * log2(Double(first))
        } else if keys.contains("log2_vocab") {
            let v = try need("log2_vocab", maxElements: 1)
            guard v.shape == [], let l = v.doubles.first, l > 0, l.isFinite else { throw Failure(description: "out.npz 'log2_vocab' must be a positive float scalar") }
            guard l <= 32 else { throw Failure(description: "log2_vocab \(l) is above 32 bits per word: give multi-word tokens [N, L, W] and vocab_size") }
            log2V = l
            wordRange = Int64(exp2(l.rounded(.up)))  // words lie below 2^⌈log2 V⌉; usage is counted over those values
            source = "log2_vocab \(l): words below 2^\(Int(l.rounded(.up)))"
        } else {
            throw Failure(description: "out.npz has neither 'vocab_size' nor 'log2_vocab' (keys: \(keys.joined(separator: ", ")))")
        }
        if let bad = tv.firstIndex(where: { $0 < 0 || $0 >= wordRange }) {
            throw Failure(description: "out.npz 'tokens' holds \(tv[bad]) at flat index \(bad), outside 0..<\(wordRange) (\(source))")
        }
        guard wordRange <= 1 << 32 else { throw Failure(description: "\(source) per word is above 2^32: give multi-word tokens [N, L, W]") }
        let tokens = Tokens(values: tv, shape: t.shape, wordRange: Int(wordRange))
        var extra: [MetricValue] = []
        for k in keys where k.hasPrefix("metric_") {
            let v = try need(k, maxElements: 1)
            guard v.shape == [] || v.shape == [1], let x = v.doubles.first, x.isFinite else { throw Failure(description: "out.npz '\(k)' must be a finite float scalar") }
            extra.append((Metric.external(String(k.dropFirst("metric_".count))), x))
        }
        return TokenizerOutputs(tokens: tokens, reconstruction: recon, log2Vocab: log2V, extra: extra, seconds: seconds)
    }
}
