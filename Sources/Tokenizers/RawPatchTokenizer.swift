import Settings
import Datasets

/// Raw pixel patches as tokens: each p×p×C patch of the image is one token whose words are the
/// patch's bytes, optionally cut to their top k bits. Nothing is learned; at k = 8 it is lossless.
///   L = (H/p)·(W/p), log2 V = p²·C·k.
/// Decoding a k-bit word q gives the centre of its bin: q·2^(8−k) + 2^(7−k), so
/// |x − x̂| ≤ 2^(7−k) for k < 8.
public final class RawPatchTokenizer: Tokenizer {
    public let kind = "raw-patch"
    public let patch: Int   // p
    public let bits: Int    // k, 1…8
    public let shape: ImageShape

    public init(patch: Int, bits: Int, shape: ImageShape) {
        precondition(shape.height % patch == 0 && shape.width % patch == 0 && (1...8).contains(bits))
        self.patch = patch; self.bits = bits; self.shape = shape
    }

    public var tokensPerImage: Int { (shape.height / patch) * (shape.width / patch) }
    public var log2VocabularySize: Double { Double(patch * patch * shape.channels * bits) }


    // images: [B, C, H, W] → words: [B, L, p·p·C], word order within a token (c, dy, dx)
    public func encode(_ images: ImageBatch) -> Tokens {
        let (p, C, H, W) = (patch, images.channels, images.height, images.width)
        let rows = H / p, cols = W / p, S = p * p * C, shift = UInt8(8 - bits)
        var words = [UInt32](repeating: 0, count: images.count * rows * cols * S)
        images.pixels.withUnsafeBufferPointer { px in
            var o = 0
            for b in 0..<images.count {
                for ty in 0..<rows {
                    for tx in 0..<cols {
                        for c in 0..<C {
                            for dy in 0..<p {
                                let row = ((b * C + c) * H + ty * p + dy) * W + tx * p
                                for dx in 0..<p { words[o] = UInt32(px[row + dx] >> shift); o += 1 }
                            }
                        }
                    }
                }
            }
        }
        return Tokens(count: images.count, gridRows: rows, gridCols: cols, wordsPerToken: S, wordRange: 1 << bits, words: words)
    }

    // words: [B, L, p·p·C] → images: [B, C, H, W]
    public func decode(_ tokens: Tokens) -> ImageBatch {
        let (p, C) = (patch, shape.channels)
        let H = tokens.gridRows * p, W = tokens.gridCols * p
        let shift = UInt32(8 - bits), centre: UInt32 = bits == 8 ? 0 : 1 << (7 - UInt32(bits))
        var out = ImageBatch(count: tokens.count, channels: C, height: H, width: W)
        var o = 0
        for b in 0..<tokens.count {
            for ty in 0..<tokens.gridRows {
                for tx in 0..<tokens.gridCols {
                    for c in 0..<C {
                        for dy in 0..<p {
                            let row = ((b * C + c) * H + ty * p + dy) * W + tx * p
                            for dx in 0..<p { out.pixels[row + dx] = UInt8((tokens.words[o] << shift) | centre); o += 1 }
                        }
                    }
                }
            }
        }
        return out
    }
}

extension RawPatchTokenizer {
    public struct Options: Equatable, Sendable, DeclaredOptions {
        public var patch = 0, bits = 0
        public static let unset = Options()
        private init() {}
        public static var options: [Option<Options>] {
            [
                .int("patch", \.patch, default: 4, "patch side p in pixels", check: ConfigKey.intIn(1...256)),
                .int("bits", \.bits, default: 8, "bits kept per value k (1…8); decode to bin centres", check: ConfigKey.intIn(1...8)),
            ]
        }
    }

    public static let entry = TokenizerEntry(
        kind: "raw-patch",
        summary: "p×p×C raw pixel patches as tokens, top k bits kept (lossless at k = 8)",
        labelKeys: { _ in ["patch", "bits"] },
        keys: Options.keys,
        needsTrainImages: { _ in false },
        validate: { config, shape in
            let p = try decodeOptions(Options.self, from: config.values).patch
            guard shape.height % p == 0, shape.width % p == 0 else {
                throw ConfigError(key: "patch", "patch \(p) does not divide the resolution \(shape.height)x\(shape.width)")
            }
        },
        make: { config, shape, _, _ in
            let o = try decodeOptions(Options.self, from: config.values)
            return .native(RawPatchTokenizer(patch: o.patch, bits: o.bits, shape: shape))
        }
    )
}
