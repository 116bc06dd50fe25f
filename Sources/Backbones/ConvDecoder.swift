// Decoder of the reference backbone (ARCHITECTURE.md, "How to add …", a backbone), PyTorch-style names "<name>.<index>.*":
//   conv3×3 pad 1 (D→h), Res(h,r), Res(h,r), ReLU, [convT4×4/2 pad 1 (c_{i+1}→c_i), ReLU] × (n−1), convT4×4/2 pad 1 (c₁→C)
// walking BackboneConfig.stageChannels backwards (n=2: h→h/2→C; n=1: h→C). No output activation.
// Channel-major throughout: z: [D, B, h, w] → x̂: [C, B, h·2ⁿ, w·2ⁿ].
import Kernels
import Layers

public final class ConvDecoder {
    public let config: BackboneConfig
    public let body: Sequential

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

    /// z: [D, B, h, w] → x̂: [C, B, H, W]
    public func forward(_ z: Tensor) -> Tensor { body.forward(z) }

    /// dx̂: [C, B, H, W] → dz: [D, B, h, w]; accumulates parameter gradients.
    public func backward(_ dy: Tensor) -> Tensor { body.backward(dy) }

    public var forwardFLOPs: Double { body.forwardFLOPs }
}
