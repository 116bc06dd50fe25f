// Encoder of the reference backbone (ARCHITECTURE.md, "How to add …", a backbone), PyTorch-style names "<name>.<index>.*":
//   [conv4×4/2 pad 1 (c_{i}→c_{i+1}), ReLU] × n, conv3×3 pad 1 (h→h), Res(h,r), Res(h,r), ReLU, conv1×1 (h→D)
// with stage channels from BackboneConfig.stageChannels (n=2: C→h/2→h; n=1: C→h).
// Channel-major throughout: x: [C, B, H, W] → z: [D, B, H/2ⁿ, W/2ⁿ].
import Kernels
import Layers

public final class ConvEncoder {
    public let config: BackboneConfig
    public let body: Sequential

    public init(config: BackboneConfig, params: ParameterSet, name: String = "encoder") {
        self.config = config
        var layers: [Layer] = []
        let stages = config.stageChannels
        for i in 0..<config.downsamplings {
            layers.append(Conv2d(stages[i], stages[i + 1], kernel: 4, stride: 2, padding: 1, params: params, name: "\(name).\(layers.count)"))
            layers.append(ReLU())
        }
        let h = config.hidden
        layers.append(Conv2d(stages.last!, h, kernel: 3, padding: 1, params: params, name: "\(name).\(layers.count)"))
        layers.append(ResidualBlock(hidden: h, residual: config.residual, params: params, name: "\(name).\(layers.count)"))
        layers.append(ResidualBlock(hidden: h, residual: config.residual, params: params, name: "\(name).\(layers.count)"))
        layers.append(ReLU())
        layers.append(Conv2d(h, config.latent, kernel: 1, params: params, name: "\(name).\(layers.count)"))
        body = Sequential(layers)
        (layers[0] as! Conv2d).computesInputGradient = false
    }

    /// Whether `backward` computes dL/dx for the images (off by default: images need no gradient).
    public var computesInputGradient: Bool {
        get { (body.layers[0] as! Conv2d).computesInputGradient }
        set { (body.layers[0] as! Conv2d).computesInputGradient = newValue }
    }

    /// x: [C, B, H, W] → z: [D, B, h, w]
    public func forward(_ x: Tensor) -> Tensor { body.forward(x) }

    /// dz: [D, B, h, w] → dx: [C, B, H, W] (empty unless computesInputGradient); accumulates parameter gradients.
    @discardableResult
    public func backward(_ dz: Tensor) -> Tensor { body.backward(dz) }

    public var forwardFLOPs: Double { body.forwardFLOPs }
}
