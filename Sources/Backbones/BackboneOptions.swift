// The settings every latent tokenizer shares: the reference backbone's widths and depth, declared once.
import Settings

public struct BackboneOptions: Codable, Equatable, Sendable {
    public var hidden: Int
    public var residual: Int
    public var latentDim: Int          // 0: the quantizer's own dimension (FSQ/LFQ), no projection
    public var downsamplings: Int
    enum CodingKeys: String, CodingKey { case hidden, residual, latentDim = "latent_dim", downsamplings }

    /// `latent` is the default D (0 for quantizers that set it themselves).
    public static func keys(latent: Int = 64, latentDoc: String = "latent channels D") -> [ConfigKey] {
        [
            ConfigKey("hidden", .int, default: .int(128), "backbone hidden channels h", check: ConfigKey.intIn(2...1024)),
            ConfigKey("residual", .int, default: .int(32), "residual-branch channels r", check: ConfigKey.intIn(1...1024)),
            ConfigKey("latent_dim", .int, default: .int(latent), latentDoc, check: ConfigKey.intIn((latent == 0 ? 0 : 1)...1024)),
            ConfigKey("downsamplings", .int, default: .int(2), "stride-2 stages n; L = (H/2^n)(W/2^n)", check: ConfigKey.intIn(1...6)),
        ]
    }

    /// The backbone for images of `channels` channels; `quantizerDim` replaces a latent_dim of 0.
    public func config(channels: Int, quantizerDim: Int? = nil) throws -> BackboneConfig {
        let d = latentDim == 0 ? quantizerDim : latentDim
        guard let d, d >= 1 else { throw ConfigError(key: "latent_dim", "must be set (≥ 1) for this quantizer") }
        return BackboneConfig(channels: channels, hidden: hidden, residual: residual, latent: d, downsamplings: downsamplings)
    }

    /// The combination against the image size: the resolution must be a multiple of 2ⁿ, h even when n ≥ 2.
    public func validate(height: Int, width: Int) throws {
        let f = 1 << downsamplings
        guard height % f == 0, width % f == 0 else {
            throw ConfigError(key: "downsamplings", "\(downsamplings) downsamplings need the resolution to be a multiple of \(f), got \(height)x\(width)")
        }
        if downsamplings >= 2 && hidden % 2 != 0 { throw ConfigError(key: "hidden", "must be even with 2 or more downsamplings") }
    }
}
