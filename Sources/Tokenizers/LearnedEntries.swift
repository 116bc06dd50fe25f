import Layers

/// Config keys shared by every learned tokenizer: the reference backbone (DESIGN.md).
enum BackboneKeys {
    static let keys: [ConfigKey] = keys(latent: 64, latentDoc: "latent channels D")

    /// With `latent` 0 the encoder emits the quantizer's own dimension (FSQ: one channel per
    /// level, LFQ: one per bit), as in the papers; otherwise a 1×1 projection maps D to it.
    static func keys(latent: Int, latentDoc: String) -> [ConfigKey] {
        [
            ConfigKey("hidden", .int, default: .int(128), "backbone hidden channels h", check: ConfigKey.intIn(2...1024)),
            ConfigKey("residual", .int, default: .int(32), "residual-branch channels r", check: ConfigKey.intIn(1...1024)),
            ConfigKey("latent_dim", .int, default: .int(latent), latentDoc, check: ConfigKey.intIn((latent == 0 ? 0 : 1)...1024)),
            ConfigKey("downsamplings", .int, default: .int(2), "stride-2 stages n; L = (H/2^n)(W/2^n)", check: ConfigKey.intIn(1...6)),
        ]
    }

    /// `quantizerDim` replaces a latent_dim of 0.
    static func config(_ c: TokenizerConfig, _ shape: ImageShape, quantizerDim: Int? = nil) -> BackboneConfig {
        let d = c.int("latent_dim")
        return BackboneConfig(channels: shape.channels, hidden: c.int("hidden"), residual: c.int("residual"),
                              latent: d == 0 ? quantizerDim! : d, downsamplings: c.int("downsamplings"))
    }

    static func validate(_ c: TokenizerConfig, _ shape: ImageShape) throws {
        let f = 1 << c.int("downsamplings")
        guard shape.height % f == 0, shape.width % f == 0 else {
            throw ConfigError(key: "downsamplings", "\(c.int("downsamplings")) downsamplings need the resolution to be a multiple of \(f), got \(shape.height)x\(shape.width)")
        }
        if c.int("downsamplings") >= 2 && c.int("hidden") % 2 != 0 { throw ConfigError(key: "hidden", "must be even with 2 or more downsamplings") }
    }
}

extension VQBottleneck {
    public static let entry = TokenizerEntry(
        kind: "vq-vae",
        summary: "VQ-VAE on the reference backbone: nearest-code VQ, EMA codebook, k-means init, dead-code restarts",
        labelKeys: ["codebook_size"],
        keys: BackboneKeys.keys + [
            ConfigKey("codebook_size", .int, default: .int(512), "K codes", check: ConfigKey.intIn(2...(1 << 20))),
            ConfigKey("codebook_dim", .int, default: .int(0), "factorized codes: project to this dimension (0: latent_dim)", check: ConfigKey.intIn(0...1024)),
            ConfigKey("ema", .bool, default: .bool(true), "codebook by EMA (true) or by gradient of the codebook loss (false)"),
            ConfigKey("decay", .double, default: .double(0.99), "EMA decay", check: { v in (0..<1).contains(v.doubleValue ?? -1) ? nil : "must be in [0, 1)" }),
            ConfigKey("commitment", .double, default: .double(0.25), "commitment weight beta", check: { v in (v.doubleValue ?? -1) >= 0 ? nil : "must be ≥ 0" }),
            ConfigKey("kmeans_init", .bool, default: .bool(true), "k-means initialisation on the first batch"),
            ConfigKey("restart", .bool, default: .bool(true), "re-seed dead codes from current encoder outputs"),
            ConfigKey("dead_threshold", .double, default: .double(1.0), "EMA count under which a code is dead", check: { v in (v.doubleValue ?? -1) >= 0 ? nil : "must be ≥ 0" }),
            ConfigKey("cosine", .bool, default: .bool(false), "l2-normalised codes and encoder outputs"),
        ],
        validate: { c, shape in
            try BackboneKeys.validate(c, shape)
            if c.int("codebook_dim") > c.int("latent_dim") { throw ConfigError(key: "codebook_dim", "must not exceed latent_dim (\(c.int("latent_dim")))") }
        },
        make: { c, shape, seed in
            var o = VQBottleneck.Options()
            o.codebookSize = c.int("codebook_size")
            o.codebookDim = c.int("codebook_dim") == 0 ? nil : c.int("codebook_dim")
            o.ema = c.bool("ema"); o.decay = Float(c.double("decay")); o.commitment = Float(c.double("commitment"))
            o.kmeansInit = c.bool("kmeans_init"); o.restart = c.bool("restart"); o.deadThreshold = Float(c.double("dead_threshold"))
            o.cosine = c.bool("cosine")
            let backbone = BackboneKeys.config(c, shape)
            return LatentTokenizer(kind: "vq-vae", shape: shape, backbone: backbone, seed: seed) { ps in
                VQBottleneck(latentDim: backbone.latent, options: o, params: ps, seed: seed)
            }
        }
    )
}
