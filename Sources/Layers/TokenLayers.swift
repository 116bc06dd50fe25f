// The layers between images and token sequences (ViT):
//   Patchify(p):        x [C, B, H, W] (channel-major) → tokens [B, T, p·p·C], T = (H/p)·(W/p) in raster order,
//                       a token's features in (c, i, j) order (PyTorch's Conv2d patch embedding flattens the same way)
//   Unpatchify(p, ...): the inverse, [B, T, p·p·C] → [C, B, H, W]
//   PositionEmbedding:  x [B, T, C] + pos [T, C] (learned, N(0, 0.02²))
// Patchify and Unpatchify are permutations: each one's backward is the other's forward.
import Kernels

public final class Patchify: Layer {
    public let patch: Int
    private var inputShape: [Int] = []
    private var output: Tensor?, dInput: Tensor?
    public init(patch: Int) { self.patch = patch }

    public func forward(_ x: Tensor) -> Tensor {
        let (C, B, H, W, p) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3], patch)
        precondition(H % p == 0 && W % p == 0, "Patchify: \(H)x\(W) not divisible by \(p)")
        inputShape = x.shape
        let y = reusing(output, shape: [B, (H / p) * (W / p), p * p * C]); output = y
        Self.permute(x.data, y.data, C: C, B: B, H: H, W: W, p: p, toTokens: true)
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let (C, B, H, W) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        let dx = reusing(dInput, shape: inputShape); dInput = dx
        Self.permute(dx.data, dy.data, C: C, B: B, H: H, W: W, p: patch, toTokens: false)
        return dx
    }

    /// image [C, B, H, W] ⇄ tokens [B, T, p·p·C].
    static func permute(_ image: UnsafeMutablePointer<Float>, _ tokens: UnsafeMutablePointer<Float>, C: Int, B: Int, H: Int, W: Int, p: Int, toTokens: Bool) {
        let gw = W / p, T = (H / p) * gw, F = p * p * C
        for b in 0..<B { for t in 0..<T { for c in 0..<C { for i in 0..<p { for j in 0..<p {
            let y = (t / gw) * p + i, x = (t % gw) * p + j
            let ii = ((c * B + b) * H + y) * W + x, ti = (b * T + t) * F + (c * p + i) * p + j
            if toTokens { tokens[ti] = image[ii] } else { image[ii] = tokens[ti] }
        } } } } }
    }
}

public final class Unpatchify: Layer {
    public let patch, channels, height, width: Int
    private var tokenShape: [Int] = []
    private var output: Tensor?, dInput: Tensor?
    public init(patch: Int, channels: Int, height: Int, width: Int) {
        self.patch = patch; self.channels = channels; self.height = height; self.width = width
    }

    public func forward(_ x: Tensor) -> Tensor {
        let B = x.shape[0]
        precondition(x.shape == [B, (height / patch) * (width / patch), patch * patch * channels], "Unpatchify: unexpected \(x.shape)")
        tokenShape = x.shape
        let y = reusing(output, shape: [channels, B, height, width]); output = y
        Patchify.permute(y.data, x.data, C: channels, B: B, H: height, W: width, p: patch, toTokens: false)
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let dx = reusing(dInput, shape: tokenShape); dInput = dx
        Patchify.permute(dy.data, dx.data, C: channels, B: tokenShape[0], H: height, W: width, p: patch, toTokens: true)
        return dx
    }
}

public final class PositionEmbedding: Layer {
    public let length, features: Int
    public let offset: Int
    public let params: ParameterSet
    private var output: Tensor?, dInput: Tensor?

    public init(length T: Int, features C: Int, params: ParameterSet, name: String) {
        length = T; features = C; self.params = params
        offset = params.register(name, shape: [T, C], initializer: .normal(std: 0.02))
    }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 3 && x.shape[1] == length && x.shape[2] == features, "PositionEmbedding: expected [B, \(length), \(features)], got \(x.shape)")
        let y = reusing(output, shape: x.shape); output = y
        let pos = params.value(offset), n = length * features
        for b in 0..<x.shape[0] { for i in 0..<n { y.data[b * n + i] = x.data[b * n + i] + pos[i] } }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let dpos = params.grad(offset), n = length * features
        for b in 0..<dy.shape[0] { for i in 0..<n { dpos[i] += dy.data[b * n + i] } }
        let dx = reusing(dInput, shape: dy.shape); dInput = dx
        dx.copy(from: dy)
        return dx
    }
}
