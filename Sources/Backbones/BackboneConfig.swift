// Hyper-parameters of the reference backbone (ARCHITECTURE.md, "How to add …", a backbone).

public struct BackboneConfig: Sendable, Equatable, Codable {
    /// C: image channels.
    public var channels: Int
    /// h: hidden channels.
    public var hidden: Int
    /// r: residual-branch channels.
    public var residual: Int
    /// D: latent dimension (channels of z).
    public var latent: Int
    /// n: number of stride-2 downsamplings (≥ 1); L = (H/2ⁿ)·(W/2ⁿ).
    public var downsamplings: Int

    public init(channels: Int, hidden: Int = 128, residual: Int = 32, latent: Int = 64, downsamplings: Int = 2) {
        precondition(channels >= 1 && hidden >= 2 && residual >= 1 && latent >= 1 && downsamplings >= 1,
                     "BackboneConfig: invalid \(channels) \(hidden) \(residual) \(latent) \(downsamplings)")
        precondition(downsamplings == 1 || hidden % 2 == 0, "BackboneConfig: hidden must be even when n ≥ 2")
        self.channels = channels; self.hidden = hidden; self.residual = residual
        self.latent = latent; self.downsamplings = downsamplings
    }

    /// h=128, r=32, D=64, n=2.
    public static func reference(channels: Int) -> BackboneConfig { BackboneConfig(channels: channels) }

    /// Channels after each stride-2 stage of the encoder: [C, c₁, …, cₙ].
    /// n = 1: [C, h]. n ≥ 2: [C, h/2, h, …, h] (first stage C→h/2, the rest →h).
    /// The decoder's transposed convs walk the same list backwards (h → … → h/2 → C).
    public var stageChannels: [Int] {
        if downsamplings == 1 { return [channels, hidden] }
        return [channels, hidden / 2] + Array(repeating: hidden, count: downsamplings - 1)
    }

    /// Latent spatial size for an H×W input (H, W must be divisible by 2ⁿ).
    public func latentSize(height: Int, width: Int) -> (Int, Int) {
        let f = 1 << downsamplings
        precondition(height % f == 0 && width % f == 0, "BackboneConfig: \(height)×\(width) not divisible by \(f)")
        return (height / f, width / f)
    }
}
