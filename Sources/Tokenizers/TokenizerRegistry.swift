/// How to build one kind of tokenizer from its configuration.
public struct TokenizerEntry: Sendable {
    public let kind: String
    public let summary: String
    public let keys: [ConfigKey]
    /// Keys every label shows, default or not (the rest only when they differ from the default).
    public let labelKeys: [String]
    /// Checks the combination of values against the image shape (e.g. patch divides H and W),
    /// throwing a ConfigError that names the key. Runs before any run starts.
    public let validate: @Sendable (TokenizerConfig, ImageShape) throws -> Void
    public let make: @Sendable (TokenizerConfig, ImageShape, UInt64) throws -> Tokenizer   // seed

    public init(kind: String, summary: String, labelKeys: [String], keys: [ConfigKey], validate: @escaping @Sendable (TokenizerConfig, ImageShape) throws -> Void,
                make: @escaping @Sendable (TokenizerConfig, ImageShape, UInt64) throws -> Tokenizer) {
        self.kind = kind; self.summary = summary; self.keys = keys; self.labelKeys = labelKeys; self.validate = validate; self.make = make
    }
}

/// The one registry of tokenizers, by name.
public enum TokenizerRegistry {
    public static let entries: [TokenizerEntry] = [
        RawPatchTokenizer.entry,
        VQBottleneck.entry,
        FiniteScalarQuantizer.entry,
        LookupFreeQuantizer.entry,
        ResidualVectorQuantizer.entry,
    ]

    public static func entry(_ kind: String) -> TokenizerEntry? { entries.first { $0.kind == kind } }
    public static var kinds: [String] { entries.map(\.kind) }

    /// Builds a tokenizer after validating its config.
    public static func make(_ config: TokenizerConfig, shape: ImageShape, seed: UInt64 = 0) throws -> Tokenizer {
        guard let e = entry(config.kind) else {
            throw ConfigError(key: "kind", "unknown tokenizer \"\(config.kind)\" (known: \(kinds.joined(separator: ", ")))")
        }
        try e.validate(config, shape)
        return try e.make(config, shape, seed)
    }
}
