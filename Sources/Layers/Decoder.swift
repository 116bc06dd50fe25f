// Decoder of the reference backbone (DESIGN.md), PyTorch-style names "<name>.<index>.*":
//   conv3×3 pad 1 (D→h), Res(h,r), Res(h,r), ReLU, [convT4×4/2 pad 1 (c_{i+1}→c_i), ReLU] × (n−1), convT4×4/2 pad 1 (c₁→C)
// walking BackboneConfig.stageChannels backwards (n=2: h→h/2→C; n=1: h→C).
// z: [B, D, h, w] (NCHW) → x̂: [B, C, h·2ⁿ, w·2ⁿ] (NCHW). No output activation.
import Kernels

public final class Decoder {
    public let config: BackboneConfig
    public let body: Sequential
    private var zCM: Tensor?      // z: [D, B, h, w]
    private var yOut: Tensor?     // x̂: [B, C, H, W]
    private var dyCM: Tensor?     // dx̂: [C, B, H, W]
    private var dzOut: Tensor?    // dz: [B, D, h, w]

    public init(config: BackboneConfig, params: ParameterSet, name: String = "decoder") {
        self.config = config
        var layers: [Layer] = []
        let h = config.hidden
        layers.append(Conv2d(config.latent, h, kernel: 3, padding: 1, params: params, name: "\(name).\(layers.count)"))
        layers.append(ResidualBlock(hidden: h, residual: config.residual, params: params, name: "\(name).\(layers.count)"))
        layers.append(ResidualBlock(hidden: h, residual: config.residual, params: params, name: "\(name).\(layers.count)"))
        layers.append(ReLU())
        let stages = config.stageChannels
        var inC = h
        for i in stride(from: config.downsamplings - 1, through: 0, by: -1) {
            layers.append(ConvTranspose2d(inC, stages[i], kernel: 4, stride: 2, padding: 1, params: params, name: "\(name).\(layers.count)"))
            if i > 0 { layers.append(ReLU()) }
            inC = stages[i]
        }
        body = Sequential(layers)
    }

    // z: [B, D, h, w] → x̂: [B, C, H, W]
    public func forward(_ z: Tensor) -> Tensor {
        precondition(z.shape.count == 4 && z.shape[1] == config.latent, "Decoder: expected [B, \(config.latent), h, w], got \(z.shape)")
        let B = z.shape[0], h = z.shape[2], w = z.shape[3]
        let zc = reusing(zCM, shape: [config.latent, B, h, w]); zCM = zc
        nchwToChannelMajor(z.data, batch: B, channels: config.latent, spatial: h * w, into: zc.data)
        let yc = body.forward(zc)  // [C, B, H, W]
        let y = reusing(yOut, shape: [B, config.channels, yc.shape[2], yc.shape[3]]); yOut = y
        channelMajorToNCHW(yc.data, batch: B, channels: config.channels, spatial: yc.shape[2] * yc.shape[3], into: y.data)
        return y
    }

    /// Channel-major forward: z: [D, B, h, w] → x̂: [C, B, H, W].
    public func forwardChannelMajor(_ z: Tensor) -> Tensor { body.forward(z) }

    /// dx̂: [B, C, H, W] → dz: [B, D, h, w]; accumulates parameter gradients.
    public func backward(_ dy: Tensor) -> Tensor {
        precondition(dy.shape.count == 4 && dy.shape[1] == config.channels, "Decoder.backward: dy \(dy.shape)")
        let B = dy.shape[0], H = dy.shape[2], W = dy.shape[3]
        let dc = reusing(dyCM, shape: [config.channels, B, H, W]); dyCM = dc
        nchwToChannelMajor(dy.data, batch: B, channels: config.channels, spatial: H * W, into: dc.data)
        let dzc = body.backward(dc)  // [D, B, h, w]
        let dz = reusing(dzOut, shape: [B, config.latent, dzc.shape[2], dzc.shape[3]]); dzOut = dz
        channelMajorToNCHW(dzc.data, batch: B, channels: config.latent, spatial: dzc.shape[2] * dzc.shape[3], into: dz.data)
        return dz
    }

    /// Channel-major backward: dx̂: [C, B, H, W] → dz: [D, B, h, w].
    public func backwardChannelMajor(_ dy: Tensor) -> Tensor { body.backward(dy) }

    public var forwardFLOPs: Double { body.forwardFLOPs }
}
