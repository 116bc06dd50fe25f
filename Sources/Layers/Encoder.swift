// Encoder of the reference backbone (DESIGN.md), PyTorch-style names "<name>.<index>.*":
//   [conv4×4/2 pad 1 (c_{i}→c_{i+1}), ReLU] × n, conv3×3 pad 1 (h→h), Res(h,r), Res(h,r), ReLU, conv1×1 (h→D)
// with stage channels from BackboneConfig.stageChannels (n=2: C→h/2→h; n=1: C→h).
// x: [B, C, H, W] (NCHW) → z: [B, D, H/2ⁿ, W/2ⁿ] (NCHW). Internally channel-major [C, B, H, W].
import Kernels

public final class Encoder {
    public let config: BackboneConfig
    public let body: Sequential
    private var xCM: Tensor?      // x: [C, B, H, W]
    private var zOut: Tensor?     // z: [B, D, h, w]
    private var dzCM: Tensor?     // dz: [D, B, h, w]
    private var dxOut: Tensor?    // dx: [B, C, H, W]

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

    // x: [B, C, H, W] → z: [B, D, h, w]
    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[1] == config.channels, "Encoder: expected [B, \(config.channels), H, W], got \(x.shape)")
        let B = x.shape[0], H = x.shape[2], W = x.shape[3]
        let (h, w) = config.latentSize(height: H, width: W)
        let xc = reusing(xCM, shape: [config.channels, B, H, W]); xCM = xc
        nchwToChannelMajor(x.data, batch: B, channels: config.channels, spatial: H * W, into: xc.data)
        let zc = body.forward(xc)  // [D, B, h, w]
        let z = reusing(zOut, shape: [B, config.latent, h, w]); zOut = z
        channelMajorToNCHW(zc.data, batch: B, channels: config.latent, spatial: h * w, into: z.data)
        return z
    }

    /// Channel-major forward without layout conversion: x: [C, B, H, W] → z: [D, B, h, w].
    public func forwardChannelMajor(_ x: Tensor) -> Tensor { body.forward(x) }

    /// dz: [B, D, h, w] → dx: [B, C, H, W] when `computesInputGradient`, else nil.
    /// Accumulates parameter gradients into the ParameterSet.
    @discardableResult
    public func backward(_ dz: Tensor) -> Tensor? {
        precondition(dz.shape.count == 4 && dz.shape[1] == config.latent, "Encoder.backward: dz \(dz.shape)")
        let B = dz.shape[0], h = dz.shape[2], w = dz.shape[3]
        let dc = reusing(dzCM, shape: [config.latent, B, h, w]); dzCM = dc
        nchwToChannelMajor(dz.data, batch: B, channels: config.latent, spatial: h * w, into: dc.data)
        let dxc = body.backward(dc)
        guard computesInputGradient, let xc = xCM else { return nil }
        let dx = reusing(dxOut, shape: [B, config.channels, xc.shape[2], xc.shape[3]]); dxOut = dx
        channelMajorToNCHW(dxc.data, batch: B, channels: config.channels, spatial: xc.shape[2] * xc.shape[3], into: dx.data)
        return dx
    }

    /// Channel-major backward: dz: [D, B, h, w] → dx: [C, B, H, W] (empty unless computesInputGradient).
    public func backwardChannelMajor(_ dz: Tensor) -> Tensor { body.backward(dz) }

    public var forwardFLOPs: Double { body.forwardFLOPs }
}
