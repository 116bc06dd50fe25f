// The latent tokenizers of the registry: the reference backbone (Backbones/) around one quantizer
// (Quantizers/). A kind's keys are the backbone's plus its quantizer's, each declared once beside
// the type that reads them; `make` decodes both into typed options.
import Backbones
import Quantizers
import Settings
import Layers

extension TokenizerEntry {
    /// A latent kind: `quantizerDim` gives the latent size a latent_dim of 0 stands for (nil: 0 not allowed),
    /// `quantizer` builds the bottleneck from its decoded options.
    static func latent<Options: DeclaredOptions>(
        kind: String, summary: String, labelKeys: [String], latent: Int = 64, latentDoc: String = "latent channels D",
        options: Options.Type, quantizerDim: @escaping @Sendable (Options) -> Int? = { _ in nil },
        validate extra: @escaping @Sendable (BackboneOptions, Options) throws -> Void = { _, _ in },
        quantizer: @escaping @Sendable (Options, Int, ParameterSet, UInt64) -> Quantizer
    ) -> TokenizerEntry {
        TokenizerEntry(
            kind: kind, summary: summary, labelKeys: { labelKeys + BackboneOptions.labelKeys($0) }, keys: BackboneOptions.keys(latent: latent, latentDoc: latentDoc) + Options.keys,
            validate: { c, shape in
                let b = try BackboneOptions(values: c.values)
                try b.validate(height: shape.height, width: shape.width)
                try extra(b, try decodeOptions(Options.self, from: c.values))
            },
            make: { c, shape, seed, _ in
                let o = try decodeOptions(Options.self, from: c.values)
                let backbone = try BackboneOptions(values: c.values)
                    .make(shape: (shape.channels, shape.height, shape.width), quantizerDim: quantizerDim(o))
                return .native(LatentTokenizer(kind: kind, shape: shape, backbone: backbone, seed: seed) { ps in quantizer(o, backbone.latent, ps, seed) })
            })
    }

    static let vqVAE = latent(
        kind: "vq-vae", summary: "VQ-VAE on the reference backbone: nearest-code VQ, EMA codebook, k-means init, dead-code restarts",
        labelKeys: ["codebook_size"], options: VQBottleneck.Options.self,
        validate: { b, o in
            if let d = o.codebookDim, d > b.latentDim { throw ConfigError(key: "codebook_dim", "must not exceed latent_dim (\(b.latentDim))") }
        },
        quantizer: { o, d, ps, seed in VQBottleneck(latentDim: d, options: o, params: ps, seed: seed) })

    static let fsq = latent(
        kind: "fsq", summary: "finite scalar quantization (Mentzer et al. 2023) on the reference backbone",
        labelKeys: ["codebook_size", "levels"], latent: 0, latentDoc: "latent channels D (0: one per level, no projection)",
        options: FiniteScalarQuantizer.Options.self, quantizerDim: { $0.resolvedLevels.count },
        quantizer: { o, d, ps, _ in FiniteScalarQuantizer(options: o, latentDim: d, params: ps) })

    static let lfq = latent(
        kind: "lfq", summary: "lookup-free quantization (MAGVIT-v2): sign bits, entropy penalty",
        labelKeys: ["bits"], latent: 0, latentDoc: "latent channels D (0: one per bit, no projection)",
        options: LookupFreeQuantizer.Options.self, quantizerDim: { $0.signBits.bits },
        quantizer: { o, d, ps, _ in LookupFreeQuantizer(options: o, latentDim: d, params: ps) })

    static let rvq = latent(
        kind: "rvq", summary: "residual VQ: S codebooks on successive residuals (EMA, k-means init, restarts)",
        labelKeys: ["stages", "codebook_size"], options: ResidualVectorQuantizer.Options.self,
        quantizer: { o, d, ps, seed in ResidualVectorQuantizer(options: o, latentDim: d, params: ps, seed: seed) })

    static let simvq = latent(
        kind: "simvq", summary: "SimVQ (Zhu et al. 2024): a frozen random codebook through one learned linear map, nearest code, straight-through",
        labelKeys: ["codebook_size"], options: SimVQ.Options.self,
        quantizer: { o, d, ps, seed in SimVQ(latentDim: d, options: o, params: ps, seed: seed) })

    static let bsq = latent(
        kind: "bsq", summary: "binary spherical quantization (Zhao et al. 2024): unit-sphere projection, sign bits scaled by 1/sqrt(d), entropy penalty",
        labelKeys: ["bits"], latent: 0, latentDoc: "latent channels D (0: one per bit, no projection)",
        options: BinarySphericalQuantizer.Options.self, quantizerDim: { $0.signBits.bits },
        quantizer: { o, d, ps, _ in BinarySphericalQuantizer(options: o, latentDim: d, params: ps) })
}
