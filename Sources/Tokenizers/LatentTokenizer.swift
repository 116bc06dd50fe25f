import MetricCatalogue
import Foundation
import Datasets
import Kernels
import Layers
import Backbones
import Quantizers

/// A learned tokenizer: a backbone (Backbones/: the reference conv backbone, or the 1-D transformer)
/// around a quantizer (Quantizers/).
///   images [B, C, H, W] → x = pixel/255 − 0.5, channel-major [C, B, H, W]
///   → Encoder → z [D, B, h, w] → Quantizer → words [B, L, S] (L = h·w; the 1-D backbone: h = 1, w = K)
///   → dequantize → ẑ → Decoder → x̂ → round(255·(x̂ + 0.5)) clamped to 0…255.
/// VQ-VAE, FSQ, LFQ, residual VQ, SimVQ and BSQ differ only in the quantizer.
public final class LatentTokenizer: TrainableTokenizer {
    public let kind: String
    public let shape: ImageShape
    public let backbone: any Backbone
    public let params: ParameterSet
    public let encoder: Layer
    public let quantizer: Quantizer
    public let decoder: Layer
    let loss = MSELoss()
    let optimizer: Adam
    public private(set) var stepsTrained = 0
    let seed: UInt64

    public init(kind: String, shape: ImageShape, backbone: any Backbone, seed: UInt64,
                quantizer makeQuantizer: (ParameterSet) throws -> Quantizer) rethrows {
        self.kind = kind; self.shape = shape; self.backbone = backbone; self.seed = seed
        let ps = ParameterSet(seed: seed)
        params = ps
        encoder = backbone.makeEncoder(params: ps)                  // names encoder.*
        quantizer = try makeQuantizer(ps)                           // names quantizer.*
        decoder = backbone.makeDecoder(params: ps)                  // names decoder.*
        ps.finalize()
        optimizer = Adam(parameterCount: ps.count, learningRate: 3e-4)
        precondition(quantizer.latentDim == backbone.latent, "quantizer expects D = \(quantizer.latentDim), backbone gives \(backbone.latent)")
    }

    public var latentSize: (h: Int, w: Int) { let s = backbone.latentSize(height: shape.height, width: shape.width); return (s.0, s.1) }
    public var tokensPerImage: Int { latentSize.h * latentSize.w }
    public var log2VocabularySize: Double { quantizer.log2VocabularySize }

    // MARK: conversion

    /// images: [B, C, H, W] UInt8 → x: [C, B, H, W] Float in [−0.5, 0.5]
    func input(_ images: ImageBatch, indices: [Int], into x: Tensor) {
        let C = images.channels, plane = images.height * images.width, B = indices.count
        images.pixels.withUnsafeBufferPointer { px in
            for (bi, i) in indices.enumerated() {
                for c in 0..<C {
                    let src = (i * C + c) * plane, dst = (c * B + bi) * plane
                    for p in 0..<plane { x.data[dst + p] = Float(px[src + p]) * (1 / 255) - 0.5 }
                }
            }
        }
    }

    /// x̂: [C, B, H, W] → images [B, C, H, W] UInt8 (round, clamp)
    func output(_ x: Tensor) -> ImageBatch {
        let C = x.shape[0], B = x.shape[1], H = x.shape[2], W = x.shape[3], plane = H * W
        var out = ImageBatch(count: B, channels: C, height: H, width: W)
        for b in 0..<B { for c in 0..<C {
            let src = (c * B + b) * plane, dst = (b * C + c) * plane
            for p in 0..<plane { out.pixels[dst + p] = UInt8(max(0, min(255, ((x.data[src + p] + 0.5) * 255).rounded()))) }
        } }
        return out
    }

    // MARK: Tokenizer

    static let chunk = 256

    public func encode(_ images: ImageBatch) -> Tokens {
        let (h, w) = latentSize, S = quantizer.wordsPerToken
        var words = [UInt32](); words.reserveCapacity(images.count * h * w * S)
        var start = 0
        while start < images.count {
            let idx = Array(start..<min(images.count, start + Self.chunk))
            let x = Tensor(shape: [shape.channels, idx.count, shape.height, shape.width])
            input(images, indices: idx, into: x)
            words.append(contentsOf: quantizer.forward(encoder.forward(x), .inference).words)
            start += Self.chunk
        }
        return Tokens(count: images.count, gridRows: h, gridCols: w, wordsPerToken: S, wordRange: quantizer.wordRange, words: words)
    }

    public func decode(_ tokens: Tokens) -> ImageBatch {
        let (h, w) = latentSize, S = tokens.wordsPerToken, L = h * w
        var parts: [ImageBatch] = []
        var start = 0
        while start < tokens.count {
            let n = min(Self.chunk, tokens.count - start)
            let slice = Array(tokens.words[(start * L * S)..<((start + n) * L * S)])
            let zq = quantizer.dequantize(slice, shape: [backbone.latent, n, h, w])
            parts.append(output(decoder.forward(zq)))
            start += n
        }
        return ImageBatch.concatenate(parts)
    }

    // MARK: training

    /// The batch tensor of the last step (reused across steps of the same batch size).
    var batch: Tensor?

    /// Wall seconds of the step's parts outside the encoder and decoder, summed while
    /// `LayerProfile.enabled` (`tokbench bench train --profile`).
    public struct ProfileTimes: Sendable {
        public var input = 0.0, quantizerForward = 0.0, loss = 0.0, quantizerBackward = 0.0, optimizer = 0.0, statistics = 0.0
        public init() {}
    }
    public var profileTimes = ProfileTimes()

    /// One step: images[indices] → x → encoder → quantizer → decoder, MSE + the quantizer's loss terms,
    /// backward, optional clipping, Adam, the quantizer's after-step update (EMA, restarts).
    public func trainStep(_ images: ImageBatch, indices: [Int], learningRate: Float, gradClip: Float?, step: Int) throws -> [MetricValue] {
        let B = indices.count
        let x = batch.flatMap { $0.shape[1] == B ? $0 : nil } ?? Tensor(shape: [shape.channels, B, shape.height, shape.width])
        batch = x
        optimizer.learningRate = learningRate
        var t = LayerProfile.now()
        input(images, indices: indices, into: x)
        profileTimes.input += LayerProfile.lap(&t)
        let pass = try forwardBackward(x, step: step)
        t = LayerProfile.now()
        if let c = gradClip { clipGradientNorm(params.grads, maxNorm: c) }
        optimizer.update(params)
        let updates = quantizer.afterStep()
        profileTimes.optimizer += LayerProfile.lap(&t)
        stepsTrained = step
        let usage = wordUsage(pass.quantized.words, wordRange: quantizer.wordRange)
        profileTimes.statistics += LayerProfile.lap(&t)
        return [(Metric.loss, pass.total), (.reconMSE, pass.mse), (.batchUsage, usage.usage), (.batchPerplexity, usage.perplexity)]
            + pass.quantized.losses + pass.quantized.statistics + updates
    }

    /// x: [C, B, H, W] in [−0.5, 0.5] → the loss MSE(x̂, x) + every loss term of the quantizer, with every
    /// parameter's gradient in `params.grads` (zeroed first). Returns the total, the MSE, x̂: [C, B, H, W]
    /// and what the quantizer's training forward computed.
    func forwardBackward(_ x: Tensor, step: Int) throws -> (total: Double, mse: Double, xhat: Tensor, quantized: Quantized) {
        var t = LayerProfile.now()
        params.zeroGrads()
        profileTimes.optimizer += LayerProfile.lap(&t)
        let z = encoder.forward(x)
        t = LayerProfile.now()
        if let bad = firstNonFinite(z) { throw TrainingError(step: step, reason: "loss is nan (encoder output \(bad))") }
        let quantized = quantizer.forward(z, .training(step: step))
        profileTimes.quantizerForward += LayerProfile.lap(&t)
        let xhat = decoder.forward(quantized.zq)
        t = LayerProfile.now()
        let mse = Double(loss.forward(xhat, x))
        let total = mse + quantized.losses.reduce(0) { $0 + $1.value }
        guard total.isFinite else { throw TrainingError(step: step, reason: "loss is \(total)") }
        let dxhat = loss.backward()
        profileTimes.loss += LayerProfile.lap(&t)
        let dzq = decoder.backward(dxhat)
        t = LayerProfile.now()
        let dz = quantizer.backward(dzq)
        profileTimes.quantizerBackward += LayerProfile.lap(&t)
        _ = encoder.backward(dz)
        return (total, mse, xhat, quantized)
    }

    /// The first non-finite value of a tensor, if any.
    func firstNonFinite(_ t: Tensor) -> Float? {
        for i in 0..<t.count where !t.data[i].isFinite { return t.data[i] }
        return nil
    }

    // MARK: checkpoints

    /// Parameters under PyTorch-style names, quantizer buffers, and the optimizer state.
    public func saveCheckpoint(to path: String, metadata: [String: String]) throws {
        var tensors = params.safeTensors()
        for b in quantizer.buffers { tensors.append(SafeTensor(name: "buffers." + b.name, shape: b.shape, values: b.values)) }
        let opt = optimizer.stateTensors()
        tensors += opt.tensors
        var meta = metadata.merging(opt.metadata) { a, _ in a }
        meta["kind"] = kind
        meta["steps_trained"] = String(stepsTrained)
        meta["quantizer.random_state"] = String(quantizer.randomState)
        try SafeTensors.write(tensors, metadata: meta, to: URL(fileURLWithPath: path))   // atomic: temp file + rename
    }

    public func loadCheckpoint(from path: String) throws -> Int {
        let (tensors, meta) = try SafeTensors.read(from: URL(fileURLWithPath: path))
        guard meta["kind"] == kind, let steps = meta["steps_trained"].flatMap(Int.init),
              let rs = meta["quantizer.random_state"].flatMap(UInt64.init) else {
            throw TrainingError(step: 0, reason: "\(path): not a \(kind) checkpoint")
        }
        try params.load(tensors)
        try optimizer.restoreState(tensors: tensors, metadata: meta)
        var buffers: [String: [Float]] = [:]
        for t in tensors where t.name.hasPrefix("buffers.") { buffers[String(t.name.dropFirst("buffers.".count))] = t.values }
        try quantizer.loadBuffers(buffers)
        quantizer.randomState = rs
        stepsTrained = steps
        return steps
    }
}
