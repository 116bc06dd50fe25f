// The settings every latent tokenizer shares, declared once: which backbone (the reference conv
// backbone, or the 1-D transformer of ViT1D.swift) and its sizes.
import Settings

public struct BackboneOptions: Equatable, Sendable {
    public var backbone = ""           // "conv" | "vit1d"
    public var hidden = 0
    public var residual = 0
    public var latentDim = 0           // 0: the quantizer's own dimension (FSQ/LFQ/BSQ), no projection
    public var downsamplings = 0
    public var tokens = 0              // vit1d: K = L
    public var patch = 0               // vit1d: p
    public var dim = 0                 // vit1d: width W
    public var depth = 0               // vit1d: blocks per side
    public var heads = 0               // vit1d

    /// Keys every label of this configuration shows: the 1-D backbone's defining key L = `tokens`.
    public static func labelKeys(_ values: [String: ConfigValue]) -> [String] { values["backbone"] == .string("vit1d") ? ["tokens"] : [] }

    static let convKeys: Set<String> = ["hidden", "residual", "downsamplings"]
    static let vitKeys: Set<String> = ["tokens", "patch", "dim", "depth", "heads"]

    /// Each backbone option, declared once; `latent` is the default D (0 for quantizers that set it themselves).
    public static func options(latent: Int, latentDoc: String) -> [Option<BackboneOptions>] {
        [
            .string("backbone", \.backbone, default: "conv", "conv: the reference conv backbone (L = h·w); vit1d: a 1-D transformer (TiTok-style, L = tokens)",
                    check: { v in if case .string(let s) = v, !["conv", "vit1d"].contains(s) { return "must be \"conv\" or \"vit1d\"" }; return nil }),
            .int("hidden", \.hidden, default: 128, "backbone hidden channels h", check: ConfigKey.intIn(2...1024)),
            .int("residual", \.residual, default: 32, "residual-branch channels r", check: ConfigKey.intIn(1...1024)),
            .int("latent_dim", \.latentDim, default: latent, latentDoc, check: ConfigKey.intIn((latent == 0 ? 0 : 1)...1024)),
            .int("downsamplings", \.downsamplings, default: 2, "stride-2 stages n; L = (H/2^n)(W/2^n)", check: ConfigKey.intIn(1...6)),
            .int("tokens", \.tokens, default: 32, "vit1d: K latent tokens, L = K", check: ConfigKey.intIn(1...1024)),
            .int("patch", \.patch, default: 4, "vit1d: patch side p (the image is read as HW/p^2 patch tokens)", check: ConfigKey.intIn(1...64)),
            .int("dim", \.dim, default: 128, "vit1d: transformer width", check: ConfigKey.intIn(8...2048)),
            .int("depth", \.depth, default: 2, "vit1d: transformer blocks in the encoder and in the decoder", check: ConfigKey.intIn(1...48)),
            .int("heads", \.heads, default: 4, "vit1d: attention heads", check: ConfigKey.intIn(1...64)),
        ]
    }

    public static func keys(latent: Int, latentDoc: String) -> [ConfigKey] { options(latent: latent, latentDoc: latentDoc).map(\.key) }
    /// The declarations for reading values back (the latent default is the kind's: QuantizerKind's `latent`).
    static var readers: [Option<BackboneOptions>] { options(latent: 0, latentDoc: "") }

    /// From resolved values (every key present, latent_dim included).
    public init(values: [String: ConfigValue]) throws { self = try decodeDeclared(Self.readers, into: BackboneOptions(), from: values) }
    init() {}

    /// The backbone for images of this shape; `quantizerDim` replaces a latent_dim of 0.
    public func make(shape: (channels: Int, height: Int, width: Int), quantizerDim: Int? = nil) throws -> any Backbone {
        if backbone == "vit1d" {
            let d = latentDim == 0 ? quantizerDim : latentDim
            guard let d, d >= 1 else { throw ConfigError(key: "latent_dim", "must be set (≥ 1) for this quantizer") }
            return ViT1DConfig(channels: shape.channels, height: shape.height, width: shape.width, patch: patch, dim: dim, depth: depth,
                               heads: heads, tokens: tokens, latent: d)
        }
        return try config(channels: shape.channels, quantizerDim: quantizerDim)
    }

    /// The backbone for images of `channels` channels; `quantizerDim` replaces a latent_dim of 0.
    public func config(channels: Int, quantizerDim: Int? = nil) throws -> BackboneConfig {
        let d = latentDim == 0 ? quantizerDim : latentDim
        guard let d, d >= 1 else { throw ConfigError(key: "latent_dim", "must be set (≥ 1) for this quantizer") }
        return BackboneConfig(channels: channels, hidden: hidden, residual: residual, latent: d, downsamplings: downsamplings)
    }

    /// The first of `names` whose value is not its default.
    func firstChanged(_ names: Set<String>) -> String? {
        Self.readers.filter { names.contains($0.key.name) && $0.value(in: self) != $0.key.defaultValue }.map(\.key.name).sorted().first
    }

    /// The combination against the image size. A key of the other backbone set away from its default
    /// is an error naming it.
    public func validate(height: Int, width: Int) throws {
        if backbone == "vit1d" {
            if let k = firstChanged(Self.convKeys) { throw ConfigError(key: k, "applies to backbone = \"conv\" only") }
            guard height % patch == 0, width % patch == 0 else {
                throw ConfigError(key: "patch", "\(patch) must divide the resolution \(height)x\(width)")
            }
            guard dim % heads == 0 else { throw ConfigError(key: "heads", "\(heads) heads must divide dim = \(dim)") }
            return
        }
        if let k = firstChanged(Self.vitKeys) { throw ConfigError(key: k, "applies to backbone = \"vit1d\" only") }
        let f = 1 << downsamplings
        guard height % f == 0, width % f == 0 else {
            throw ConfigError(key: "downsamplings", "\(downsamplings) downsamplings need the resolution to be a multiple of \(f), got \(height)x\(width)")
        }
        if downsamplings >= 2 && hidden % 2 != 0 { throw ConfigError(key: "hidden", "must be even with 2 or more downsamplings") }
    }
}
