// The latent tokenizers of the registry: the reference backbone (Backbones/) around one quantizer
// (Quantizers/). A kind's keys are the backbone's plus its quantizer's, each declared once beside
// the type that reads them; `make` decodes both into typed options.
import Backbones
import Quantizers
import Settings
import Layers

extension TokenizerEntry {
    /// A latent kind: the backbone (its keys, checks and layers) around the quantizer a `QuantizerKind` declares.
    public static func latent(_ q: QuantizerKind) -> TokenizerEntry {
        TokenizerEntry(
            kind: q.name, summary: q.summary, labelKeys: { q.labelKeys + BackboneOptions.labelKeys($0) },
            keys: BackboneOptions.keys(latent: q.latent, latentDoc: q.latentDoc) + q.keys,
            validate: { c, shape in
                let b = try BackboneOptions(values: c.values)
                try b.validate(height: shape.height, width: shape.width)
                try q.validate(b.latentDim, c.values)
            },
            make: { c, shape, seed, _ in
                let backbone = try BackboneOptions(values: c.values)
                    .make(shape: (shape.channels, shape.height, shape.width), quantizerDim: try q.quantizerDim(c.values))
                let values = c.values
                return .native(try LatentTokenizer(kind: q.name, shape: shape, backbone: backbone, seed: seed) { ps in try q.make(values, backbone.latent, ps, seed) })
            })
    }
}
