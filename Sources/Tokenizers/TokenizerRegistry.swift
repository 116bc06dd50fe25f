/// How to build one kind of tokenizer from its configuration.
public struct TokenizerEntry: Sendable {
    public let kind: String
    public let summary: String
    public let keys: [ConfigKey]
    /// Checks the combination of values against the image shape (e.g. patch divides H and W),
    /// throwing a ConfigError that names the key. Runs before any run starts.
    public let validate: @Sendable (TokenizerConfig, ImageShape) throws -> Void
    public let make: @Sendable (TokenizerConfig, ImageShape) throws -> Tokenizer
}

/// The one registry of tokenizers, by name.
public enum TokenizerRegistry {
    public static let entries: [TokenizerEntry] = [
        RawPatchTokenizer.entry,
    ]

    public static func entry(_ kind: String) -> TokenizerEntry? { entries.first { $0.kind == kind } }
    public static var kinds: [String] { entries.map(\.kind) }

    /// Builds a tokenizer after validating its config.
    public static func make(_ config: TokenizerConfig, shape: ImageShape) throws -> Tokenizer {
        guard let e = entry(config.kind) else {
            throw ConfigError(key: "kind", "unknown tokenizer \"\(config.kind)\" (known: \(kinds.joined(separator: ", ")))")
        }
        try e.validate(config, shape)
        return try e.make(config, shape)
    }
}

extension RawPatchTokenizer {
    public static let entry = TokenizerEntry(
        kind: "raw-patch",
        summary: "p×p×C raw pixel patches as tokens, top k bits kept (lossless at k = 8)",
        keys: [
            ConfigKey("patch", .int, default: .int(4), "patch side p in pixels", check: ConfigKey.intIn(1...256)),
            ConfigKey("bits", .int, default: .int(8), "bits kept per value k (1…8); decode to bin centres", check: ConfigKey.intIn(1...8)),
        ],
        validate: { config, shape in
            let p = config.int("patch")
            guard shape.height % p == 0, shape.width % p == 0 else {
                throw ConfigError(key: "patch", "patch \(p) does not divide the resolution \(shape.height)x\(shape.width)")
            }
        },
        make: { config, shape in RawPatchTokenizer(patch: config.int("patch"), bits: config.int("bits"), shape: shape) }
    )
}
