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
}
