// The reference backbone as a trainable autoencoder: Encoder → (optional VQ bottleneck) → Decoder,
// MSE reconstruction loss, Adam over one flat ParameterSet. Used by the end-to-end test and the
// benchmark; also a template for tokenizers built on Encoder/Decoder.
import Kernels

public final class Autoencoder {
    public let params: ParameterSet
    public let encoder: Encoder
    public let quantizer: NearestCodeQuantizer?
    public let decoder: Decoder
    public let reconstructionLoss = MSELoss()
    public let optimizer: Adam
    /// Global-norm gradient clipping threshold (nil = off).
    public var clipNorm: Float?

    /// Parameter names: "encoder.*", "quantizer.embedding.weight" (when codebookSize is set), "decoder.*".
    public init(config: BackboneConfig, codebookSize: Int? = nil, learningRate: Float = 1e-3, seed: UInt64 = 0) {
        let ps = ParameterSet(seed: seed)
        params = ps
        encoder = Encoder(config: config, params: ps)
        quantizer = codebookSize.map { NearestCodeQuantizer(codes: $0, dimension: config.latent, params: ps) }
        decoder = Decoder(config: config, params: ps)
        ps.finalize()
        optimizer = Adam(parameterCount: ps.count, learningRate: learningRate)
    }

    // x: [B, C, H, W] → x̂: [B, C, H, W]
    public func reconstruct(_ x: Tensor) -> Tensor {
        let z = encoder.forward(x)
        return decoder.forward(quantizer?.forward(z) ?? z)
    }

    /// One step: forward, MSE(x̂, x) (+ VQ loss), backward, optional clipping, Adam. Returns the MSE.
    @discardableResult
    public func trainStep(_ x: Tensor) -> Float {
        params.zeroGrads()
        let xhat = reconstruct(x)
        let loss = reconstructionLoss.forward(xhat, x)
        var dz = decoder.backward(reconstructionLoss.backward())
        if let q = quantizer { dz = q.backward(dz) }
        encoder.backward(dz)
        if let c = clipNorm { clipGradientNorm(params.grads, maxNorm: c) }
        optimizer.update(params)
        return loss
    }

    public var forwardFLOPs: Double { encoder.forwardFLOPs + (quantizer?.forwardFLOPs ?? 0) + decoder.forwardFLOPs }
}
