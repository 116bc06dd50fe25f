import XCTest
import Foundation
@testable import Tokenizers
import Datasets
import Settings

/// ExternalProgram end to end with the standard-library stand-in (Tests/Corpus/external/fake_tokenizer.py):
/// the outputs it reads back equal the program's closed form, and its failures are one line.
final class ExternalProgramTests: XCTestCase {
    let fake = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Corpus/external/fake_tokenizer.py").path

    func program(_ args: [String: ConfigValue] = [:], timeout: Int = 20) throws -> ExternalProgram {
        var values: [String: ConfigValue] = ["command": .strings(["python3", fake]), "timeout_s": .int(timeout)]
        for (k, v) in args { values["args." + k] = v }
        let (_, resolved) = try TokenizerRegistry.resolve(TokenizerConfig(kind: "external", values: values))
        guard case .external(let p) = try TokenizerRegistry.build(resolved, shape: ImageShape(channels: 1, height: 8, width: 8)) else {
            throw XCTSkip("external did not build as an external program")
        }
        return p
    }

    func images() -> ImageBatch {
        ImageBatch(count: 3, channels: 1, height: 8, width: 8, pixels: (0..<192).map { UInt8(($0 * 7) % 251) })
    }

    /// The train split is written a chunk at a time: the file is the whole batch's .npy byte for byte.
    func testStreamedTrainFileEqualsTheWholeBatchs() throws {
        let b = ImageBatch(count: 7, channels: 3, height: 4, width: 5, pixels: (0..<420).map { UInt8(truncatingIfNeeded: $0 * 11 + 5) })
        let path = NSTemporaryDirectory() + "tokbench-train-\(UUID().uuidString).npy"
        defer { try? FileManager.default.removeItem(atPath: path) }
        for chunk in [1, 3, 7, 100] {
            try ExternalProgram.writeNPY(b, to: path, chunk: chunk)
            XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), ExternalProgram.npy(b), "chunk \(chunk)")
        }
    }

    /// reconstructions = images XOR 1, tokens (n·L + l) mod 16 with L = (8/4)², V = 16.
    func testOutputsAreReadBackAsTheProgramWroteThem() throws {
        let eval = images()
        let out = try program().run(train: nil, eval: eval, seed: 0) { _ in }
        XCTAssertEqual(out.reconstruction.pixels, eval.pixels.map { $0 ^ 1 })
        let tokens = try XCTUnwrap(out.tokens)
        XCTAssertEqual(tokens.count, 3); XCTAssertEqual(tokens.length, 4); XCTAssertEqual(tokens.wordRange, 16)
        XCTAssertEqual(tokens.words, (0..<12).map { UInt32($0 % 16) })
        XCTAssertEqual(out.log2Vocab, 4)
        XCTAssertEqual(out.extra.map(\.value), [0.125])
    }

    /// log2_vocab = 32 (words of 32 bits, ARCHITECTURE.md's largest) is accepted; above it is refused in words of log2_vocab.
    func testLog2VocabOf32BitsIsAccepted() throws {
        let out = try program(["mode": .string("log2-32")]).run(train: nil, eval: images(), seed: 0) { _ in }
        XCTAssertEqual(out.log2Vocab, 32)
        XCTAssertEqual(out.tokens?.wordRange, 1 << 32)
    }

    func testFailuresAreOneLine() throws {
        let eval = images()
        for (mode, fragment) in [("oob", "'tokens' holds 16 at flat index 5, outside 0..<16 (vocab_size 16)"),
                                 ("exit", "exited with status 3; last stderr: something went wrong on the GPU"),
                                 ("shape", "'reconstructions' has shape [3, 8, 9, 1], expected [3, 8, 8, 1]"),
                                 ("missing", "neither 'vocab_size' nor 'log2_vocab'")] {
            XCTAssertThrowsError(try program(["mode": .string(mode)]).run(train: nil, eval: eval, seed: 0) { _ in }, mode) { e in
                XCTAssertTrue("\(e)".contains(fragment), "\(mode): \(e)")
                XCTAssertFalse("\(e)".contains("\n"), mode)
            }
        }
    }

    // MARK: protocol 2

    func program2(_ args: [String: ConfigValue] = [:], chunk: Int, timeout: Int = 20) throws -> ExternalProgram {
        var values: [String: ConfigValue] = ["command": .strings(["python3", fake]), "timeout_s": .int(timeout), "protocol": .int(2), "chunk_images": .int(chunk)]
        for (k, v) in args { values["args." + k] = v }
        let (_, resolved) = try TokenizerRegistry.resolve(TokenizerConfig(kind: "external", values: values))
        guard case .external(let p) = try TokenizerRegistry.build(resolved, shape: ImageShape(channels: 1, height: 8, width: 8)) else {
            throw XCTSkip("external did not build as an external program")
        }
        return p
    }

    func bigger(_ n: Int) -> ImageBatch {
        ImageBatch(count: n, channels: 1, height: 8, width: 8, pixels: (0..<(n * 64)).map { UInt8(($0 * 7) % 251) })
    }

    /// Chunks arrive in order, each checked against its own images; together they are v1's outputs.
    func testChunksTogetherAreTheWholeSplitsOutputs() throws {
        let eval = bigger(7)
        let dir = NSTemporaryDirectory() + "tokbench-v2-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var got: [(Int, ImageBatch, TokenizerOutputs)] = []
        try program2(chunk: 3).runChunked(train: nil, eval: eval, firstChunk: 0, seed: 0, folder: dir, log: { _ in }) { got.append(($0, $1, $2)) }
        XCTAssertEqual(got.map(\.0), [0, 1, 2])
        XCTAssertEqual(got.map(\.1.count), [3, 3, 1])
        XCTAssertEqual(ImageBatch.concatenate(got.map(\.1)), eval)
        let whole = try program().run(train: nil, eval: eval, seed: 0) { _ in }
        XCTAssertEqual(ImageBatch.concatenate(got.map(\.2.reconstruction)), whole.reconstruction)
        XCTAssertEqual(got.flatMap { $0.2.tokens!.words }, whole.tokens!.words)
        // Measured chunks are deleted as they go: nothing is left in the exchange folder.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
    }

    /// A program killed at chunk 1 fails the run after chunk 0, saying where a resume continues; started at
    /// chunk 1 it writes only chunks 1 and 2 (the chunk log shows no chunk twice).
    func testAKilledProgramResumesAtItsChunk() throws {
        let eval = bigger(7)
        let dir = NSTemporaryDirectory() + "tokbench-v2-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let args: [String: ConfigValue] = ["die-once": .string(dir + "/died"), "die-at": .int(1), "chunk-log": .string(dir + "/chunks.log")]
        var got: [Int] = []
        XCTAssertThrowsError(try program2(args, chunk: 3).runChunked(train: nil, eval: eval, firstChunk: 0, seed: 0, folder: dir + "/x", log: { _ in }) { k, _, _ in got.append(k) }) { e in
            XCTAssertTrue("\(e)".contains("killed by signal 9 after 1 of 3 chunks (run --resume continues at chunk 1)"), "\(e)")
        }
        XCTAssertEqual(got, [0])
        try program2(args, chunk: 3).runChunked(train: nil, eval: eval, firstChunk: 1, seed: 0, folder: dir + "/x", log: { _ in }) { k, _, _ in got.append(k) }
        XCTAssertEqual(got, [0, 1, 2])
        XCTAssertEqual(try String(contentsOfFile: dir + "/chunks.log", encoding: .utf8), "chunk 0\nchunk 1\nchunk 2\n")
    }

    /// Every v1 failure is a one-line failure under v2 too, naming the chunk.
    func testV2FailuresAreOneLine() throws {
        let eval = bigger(5)
        for (mode, fragment) in [("oob", "chunk 0 of 2: out.npz 'tokens' holds 16 at flat index 5"),
                                 ("exit", "exited with status 3 after 0 of 2 chunks (run --resume continues at chunk 0); last stderr: something went wrong on the GPU"),
                                 ("shape", "chunk 0 of 2: out.npz 'reconstructions' has shape [3, 8, 9, 1], expected [3, 8, 8, 1]"),
                                 ("missing", "neither 'vocab_size' nor 'log2_vocab'"),
                                 ("dtype", "chunk 0 of 2"), ("garbage", "chunk 0 of 2"), ("zipbomb", "chunk 0 of 2")] {
            let dir = NSTemporaryDirectory() + "tokbench-v2-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            XCTAssertThrowsError(try program2(["mode": .string(mode)], chunk: 3).runChunked(train: nil, eval: eval, firstChunk: 0, seed: 0, folder: dir,
                                                                                          log: { _ in }) { _, _, _ in }, mode) { e in
                XCTAssertTrue("\(e)".contains(fragment), "\(mode): \(e)")
                XCTAssertFalse("\(e)".contains("\n"), mode)
            }
        }
        // A timeout while waiting: the program sleeps in its first chunk.
        XCTAssertThrowsError(try program2(["mode": .string("timeout")], chunk: 3, timeout: 1).runChunked(train: nil, eval: eval, firstChunk: 0, seed: 0,
                                            folder: NSTemporaryDirectory() + "tokbench-v2-\(UUID().uuidString)", log: { _ in }) { _, _, _ in }) { e in
            XCTAssertTrue("\(e)".contains("timed out after 1 s (timeout_s) after 0 of 2 chunks"), "\(e)")
        }
    }
}
