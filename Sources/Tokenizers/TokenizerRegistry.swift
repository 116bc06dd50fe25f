import Settings
import Quantizers

/// What a registry entry builds from a configuration: a tokenizer tokbench runs (encode, decode,
/// training), or an external program that runs on its own and hands back tokens and reconstructions
/// (the external protocol). The runner evaluates both through the same evaluator.
public enum BuiltTokenizer {
    case native(Tokenizer)
    case external(ExternalProgram)
}

/// How to build one kind of tokenizer from its configuration.
public struct TokenizerEntry: Sendable {
    public let kind: String
    public let summary: String
    public let keys: [ConfigKey]
    /// Keys every label shows, default or not (the rest only when they differ from the default), for a
    /// configuration's values (the 1-D backbone adds `tokens`, its defining key).
    public let labelKeys: @Sendable ([String: ConfigValue]) -> [String]
    /// Checks the combination of values against the image shape (e.g. patch divides H and W),
    /// throwing a ConfigError that names the key. Runs before any run starts.
    public let validate: @Sendable (TokenizerConfig, ImageShape) throws -> Void
    /// config, shape, seed, the folder an external program runs in.
    public let make: @Sendable (TokenizerConfig, ImageShape, UInt64, String) throws -> BuiltTokenizer
    /// Keys under this prefix are the kind's own business (an external program's `args.`).
    public let openPrefix: String?
    /// Keys labels never show (they do not change what is measured, e.g. a timeout).
    public let quietKeys: [String]
    /// Whether a configuration of this kind needs train images (an experiment whose split has none is refused).
    public let needsTrainImages: @Sendable (TokenizerConfig) -> Bool

    public init(kind: String, summary: String, labelKeys: @escaping @Sendable ([String: ConfigValue]) -> [String], keys: [ConfigKey],
                openPrefix: String? = nil, quietKeys: [String] = [],
                needsTrainImages: @escaping @Sendable (TokenizerConfig) -> Bool = { _ in true },
                validate: @escaping @Sendable (TokenizerConfig, ImageShape) throws -> Void,
                make: @escaping @Sendable (TokenizerConfig, ImageShape, UInt64, String) throws -> BuiltTokenizer) {
        self.kind = kind; self.summary = summary; self.keys = keys; self.labelKeys = labelKeys; self.openPrefix = openPrefix; self.quietKeys = quietKeys
        self.needsTrainImages = needsTrainImages; self.validate = validate; self.make = make
    }
}

/// The one registry of tokenizers, by name.
public enum TokenizerRegistry {
    public static let entries: [TokenizerEntry] = [
        RawPatchTokenizer.entry,
        .latent(VQBottleneck.kind),
        .latent(FiniteScalarQuantizer.kind),
        .latent(LookupFreeQuantizer.kind),
        .latent(ResidualVectorQuantizer.kind),
        .latent(SimVQ.kind),
        .latent(BinarySphericalQuantizer.kind),
        .latent(IndexBackpropagationQuantizer.kind),
        ExternalProgram.entry,
    ]

    public static func entry(_ kind: String) -> TokenizerEntry? { entries.first { $0.kind == kind } }
    public static var kinds: [String] { entries.map(\.kind) }

    /// Builds what a config describes after resolving and validating it; `directory` is where an
    /// external program runs (the experiment file's folder).
    public static func build(_ config: TokenizerConfig, shape: ImageShape, seed: UInt64 = 0, directory: String = ".") throws -> BuiltTokenizer {
        let (e, resolved) = try resolve(config)
        try e.validate(resolved, shape)
        return try e.make(resolved, shape, seed, directory)
    }

    /// A tokenizer tokbench runs itself (re-evaluation from a checkpoint, benchmarks, tests); an external
    /// program's config is refused with a line that says so.
    public static func make(_ config: TokenizerConfig, shape: ImageShape, seed: UInt64 = 0) throws -> Tokenizer {
        switch try build(config, shape: shape, seed: seed) {
        case .native(let t): return t
        case .external: throw ConfigError(key: "kind", "an external tokenizer is a program: tokbench runs it (tokbench run) but has no encoder or decoder of its own")
        }
    }

    /// The config with every key of its kind: unknown keys, wrong types and out-of-range values are
    /// errors naming the key; missing keys take their defaults (a key without a default is required).
    /// Experiment files do the same with file and line (Experiment.readTokenizer); this guards every
    /// other caller, so a tokenizer never reads a missing or mistyped value.
    public static func resolve(_ config: TokenizerConfig) throws -> (TokenizerEntry, TokenizerConfig) {
        guard let e = entry(config.kind) else {
            throw ConfigError(key: "kind", "unknown tokenizer \"\(config.kind)\" (known: \(kinds.joined(separator: ", ")))")
        }
        let values = try resolveSettings(config.values, keys: e.keys, owner: e.kind, openPrefix: e.openPrefix)
        return (e, TokenizerConfig(kind: config.kind, values: values))
    }

    /// Every kind with its keys: name, type, default, meaning (`tokbench tokenizers`).
    public static func describe() -> String {
        entries.map { describe(title: "\($0.kind): \($0.summary)", keys: $0.keys) }.joined()
    }

    /// One table of keys: name, type, default, meaning.
    public static func describe(title: String, keys: [ConfigKey]) -> String {
        var out = title + "\n"
        for k in keys {
            let d = k.defaultValue.map { $0 == .string("") ? "\"\"" : $0.description } ?? "required"
            out += "  " + k.name.padding(toLength: 18, withPad: " ", startingAt: 0) + k.type.rawValue.padding(toLength: 18, withPad: " ", startingAt: 0)
                + "default " + d.padding(toLength: 8, withPad: " ", startingAt: 0) + " " + k.doc + "\n"
        }
        return out
    }
}
