// The 1-D transformer backbone (TiTok-style, Yu et al. 2024, "An Image is Worth 32 Tokens"):
//   encoder: x [C, B, H, W] → patches [B, T, p·p·C] (T = HW/p²) → Linear → + position [B, T, W]
//            → append K learned latent tokens [B, T+K, W] → depth × TransformerBlock → LayerNorm
//            → the last K outputs → Linear(W → D) → z [D, B, 1, K]  (L = K tokens, a 1 × K grid)
//   decoder: ẑ [D, B, 1, K] → Linear(D → W) + latent position [B, K, W]
//            → T mask tokens (one learned vector) + position, then the K latents [B, T+K, W]
//            → depth × TransformerBlock → LayerNorm → the first T outputs → Linear(W → p·p·C)
//            → pixels [C, B, H, W]
// Only the K latent outputs are quantized, by any quantizer of the registry. Names follow
// "encoder.*" / "decoder.*" so checkpoints read like PyTorch state dicts.
import Kernels
import Layers

/// Hyper-parameters of the 1-D backbone.
public struct ViT1DConfig: Sendable, Equatable, Codable {
    public var channels: Int       // C
    public var height: Int, width: Int
    public var patch: Int          // p
    public var dim: Int            // W: transformer width
    public var depth: Int          // blocks in the encoder and in the decoder
    public var heads: Int
    public var tokens: Int         // K = L
    public var latent: Int         // D: what the quantizer sees per token

    public init(channels: Int, height: Int, width: Int, patch: Int, dim: Int, depth: Int, heads: Int, tokens: Int, latent: Int) {
        precondition(height % patch == 0 && width % patch == 0 && dim % heads == 0 && tokens >= 1 && latent >= 1 && depth >= 1)
        self.channels = channels; self.height = height; self.width = width; self.patch = patch; self.dim = dim
        self.depth = depth; self.heads = heads; self.tokens = tokens; self.latent = latent
    }

    /// T: patch tokens per image.
    public var patches: Int { (height / patch) * (width / patch) }
}

extension ViT1DConfig: Backbone {
    public func latentSize(height: Int, width: Int) -> (Int, Int) { (1, tokens) }
    public func makeEncoder(params: ParameterSet) -> Layer { ViT1DEncoder(config: self, params: params) }
    public func makeDecoder(params: ParameterSet) -> Layer { ViT1DDecoder(config: self, params: params) }
}

/// [B, K, D] (features last) ⇄ [D, B, 1, K] (channel-major latent grid).
func tokensToGrid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, B: Int, K: Int, D: Int) {
    for b in 0..<B { for k in 0..<K { for d in 0..<D { y[(d * B + b) * K + k] = x[(b * K + k) * D + d] } } }
}
func gridToTokens(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, B: Int, K: Int, D: Int) {
    for b in 0..<B { for k in 0..<K { for d in 0..<D { y[(b * K + k) * D + d] = x[(d * B + b) * K + k] } } }
}

public final class ViT1DEncoder: Layer {
    public let config: ViT1DConfig
    public let patchify: Patchify
    public let embed: Linear, position: PositionEmbedding
    public let latentTokens: Int            // offset of the K learned latent tokens [K, W]
    public let blocks: [TransformerBlock]
    public let norm: LayerNorm
    public let toLatent: Linear
    let params: ParameterSet
    private var sequence: Tensor?, dSequence: Tensor?, picked: Tensor?, z: Tensor?, dPicked: Tensor?

    public init(config c: ViT1DConfig, params: ParameterSet, name: String = "encoder") {
        config = c; self.params = params
        patchify = Patchify(patch: c.patch)
        embed = Linear(c.patch * c.patch * c.channels, c.dim, params: params, name: "\(name).patch_embed")
        embed.computesInputGradient = false    // images need no gradient
        position = PositionEmbedding(length: c.patches, features: c.dim, params: params, name: "\(name).pos_embed")
        latentTokens = params.register("\(name).latent_tokens", shape: [c.tokens, c.dim], initializer: .normal(std: 0.02))
        blocks = (0..<c.depth).map { TransformerBlock(features: c.dim, heads: c.heads, params: params, name: "\(name).blocks.\($0)") }
        norm = LayerNorm(c.dim, params: params, name: "\(name).norm")
        toLatent = Linear(c.dim, c.latent, params: params, name: "\(name).to_latent")
    }

    /// x: [C, B, H, W] → z: [D, B, 1, K]
    public func forward(_ x: Tensor) -> Tensor {
        let B = x.shape[1], T = config.patches, K = config.tokens, W = config.dim, D = config.latent
        let e = position.forward(embed.forward(patchify.forward(x)))        // [B, T, W]
        let s = reusing(sequence, shape: [B, T + K, W]); sequence = s
        let lat = params.value(latentTokens)
        for b in 0..<B {
            for i in 0..<(T * W) { s.data[b * (T + K) * W + i] = e.data[b * T * W + i] }
            for i in 0..<(K * W) { s.data[(b * (T + K) + T) * W + i] = lat[i] }
        }
        var h: Tensor = s
        for blk in blocks { h = blk.forward(h) }
        h = norm.forward(h)
        let p = reusing(picked, shape: [B, K, W]); picked = p
        for b in 0..<B { for i in 0..<(K * W) { p.data[b * K * W + i] = h.data[(b * (T + K) + T) * W + i] } }
        let y = toLatent.forward(p)                                           // [B, K, D]
        let out = reusing(z, shape: [D, B, 1, K]); z = out
        tokensToGrid(y.data, out.data, B: B, K: K, D: D)
        return out
    }

    /// dz: [D, B, 1, K] → (no image gradient); accumulates every parameter gradient.
    public func backward(_ dz: Tensor) -> Tensor {
        let B = dz.shape[1], T = config.patches, K = config.tokens, W = config.dim, D = config.latent
        let dy = Tensor(shape: [B, K, D])
        gridToTokens(dz.data, dy.data, B: B, K: K, D: D)
        let dp = toLatent.backward(dy)                                        // [B, K, W]
        let ds = reusing(dSequence, shape: [B, T + K, W]); dSequence = ds
        for b in 0..<B {
            for i in 0..<(T * W) { ds.data[b * (T + K) * W + i] = 0 }
            for i in 0..<(K * W) { ds.data[(b * (T + K) + T) * W + i] = dp.data[b * K * W + i] }
        }
        var g = norm.backward(ds)
        for blk in blocks.reversed() { g = blk.backward(g) }
        let dlat = params.grad(latentTokens)
        let de = Tensor(shape: [B, T, W])
        for b in 0..<B {
            for i in 0..<(K * W) { dlat[i] += g.data[(b * (T + K) + T) * W + i] }
            for i in 0..<(T * W) { de.data[b * T * W + i] = g.data[b * (T + K) * W + i] }
        }
        _ = embed.backward(position.backward(de))
        return Tensor(shape: [0])
    }

    public var forwardFLOPs: Double { embed.forwardFLOPs + blocks.reduce(0) { $0 + $1.forwardFLOPs } + toLatent.forwardFLOPs }
}

public final class ViT1DDecoder: Layer {
    public let config: ViT1DConfig
    public let fromLatent: Linear
    public let latentPosition: PositionEmbedding
    public let maskToken: Int               // offset of the mask token [W]
    public let position: PositionEmbedding  // of the T patch slots
    public let blocks: [TransformerBlock]
    public let norm: LayerNorm
    public let toPixels: Linear
    public let unpatchify: Unpatchify
    let params: ParameterSet
    private var sequence: Tensor?, slots: Tensor?, picked: Tensor?, dSequence: Tensor?

    public init(config c: ViT1DConfig, params: ParameterSet, name: String = "decoder") {
        config = c; self.params = params
        fromLatent = Linear(c.latent, c.dim, params: params, name: "\(name).from_latent")
        latentPosition = PositionEmbedding(length: c.tokens, features: c.dim, params: params, name: "\(name).latent_pos_embed")
        maskToken = params.register("\(name).mask_token", shape: [c.dim], initializer: .normal(std: 0.02))
        position = PositionEmbedding(length: c.patches, features: c.dim, params: params, name: "\(name).pos_embed")
        blocks = (0..<c.depth).map { TransformerBlock(features: c.dim, heads: c.heads, params: params, name: "\(name).blocks.\($0)") }
        norm = LayerNorm(c.dim, params: params, name: "\(name).norm")
        toPixels = Linear(c.dim, c.patch * c.patch * c.channels, params: params, name: "\(name).to_pixels")
        unpatchify = Unpatchify(patch: c.patch, channels: c.channels, height: c.height, width: c.width)
    }

    /// ẑ: [D, B, 1, K] → x̂: [C, B, H, W]
    public func forward(_ zq: Tensor) -> Tensor {
        let B = zq.shape[1], T = config.patches, K = config.tokens, W = config.dim, D = config.latent
        let t = Tensor(shape: [B, K, D])
        gridToTokens(zq.data, t.data, B: B, K: K, D: D)
        let lat = latentPosition.forward(fromLatent.forward(t))                 // [B, K, W]
        let m = reusing(slots, shape: [B, T, W]); slots = m
        let mask = params.value(maskToken)
        for b in 0..<B { for i in 0..<T { for j in 0..<W { m.data[(b * T + i) * W + j] = mask[j] } } }
        let mp = position.forward(m)                                          // mask token + position
        let s = reusing(sequence, shape: [B, T + K, W]); sequence = s
        for b in 0..<B {
            for i in 0..<(T * W) { s.data[b * (T + K) * W + i] = mp.data[b * T * W + i] }
            for i in 0..<(K * W) { s.data[(b * (T + K) + T) * W + i] = lat.data[b * K * W + i] }
        }
        var h: Tensor = s
        for blk in blocks { h = blk.forward(h) }
        h = norm.forward(h)
        let p = reusing(picked, shape: [B, T, W]); picked = p
        for b in 0..<B { for i in 0..<(T * W) { p.data[b * T * W + i] = h.data[b * (T + K) * W + i] } }
        return unpatchify.forward(toPixels.forward(p))
    }

    /// dx̂: [C, B, H, W] → dẑ: [D, B, 1, K]; accumulates every parameter gradient.
    public func backward(_ dx: Tensor) -> Tensor {
        let B = dx.shape[1], T = config.patches, K = config.tokens, W = config.dim, D = config.latent
        let dp = toPixels.backward(unpatchify.backward(dx))                   // [B, T, W]
        let ds = reusing(dSequence, shape: [B, T + K, W]); dSequence = ds
        for b in 0..<B {
            for i in 0..<(T * W) { ds.data[b * (T + K) * W + i] = dp.data[b * T * W + i] }
            for i in 0..<(K * W) { ds.data[(b * (T + K) + T) * W + i] = 0 }
        }
        var g = norm.backward(ds)
        for blk in blocks.reversed() { g = blk.backward(g) }
        let dm = Tensor(shape: [B, T, W]), dl = Tensor(shape: [B, K, W])
        for b in 0..<B {
            for i in 0..<(T * W) { dm.data[b * T * W + i] = g.data[b * (T + K) * W + i] }
            for i in 0..<(K * W) { dl.data[b * K * W + i] = g.data[(b * (T + K) + T) * W + i] }
        }
        let dmask = params.grad(maskToken), dslots = position.backward(dm)
        for b in 0..<B { for i in 0..<T { for j in 0..<W { dmask[j] += dslots.data[(b * T + i) * W + j] } } }
        let dt = fromLatent.backward(latentPosition.backward(dl))             // [B, K, D]
        let out = Tensor(shape: [D, B, 1, K])
        tokensToGrid(dt.data, out.data, B: B, K: K, D: D)
        return out
    }

    public var forwardFLOPs: Double { fromLatent.forwardFLOPs + blocks.reduce(0) { $0 + $1.forwardFLOPs } + toPixels.forwardFLOPs }
}
