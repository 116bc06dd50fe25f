import Settings
import MetricCatalogue
import Foundation
import Kernels
import Layers

/// Residual VQ (Zeghidour et al. 2021, SoundStream): S stages, each with its own codebook (EMA,
/// k-means init, dead-code restarts as in the VQ-VAE bottleneck), quantizing what the stages
/// before it left: r_0 = z, q_s = nearest_s(r_s), r_{s+1} = r_s − q_s, ẑ = Σ_s q_s.
/// A token is S words (one per stage): log2 V = S·log2 K. Straight-through ẑ; commitment
/// Σ_s β·mean((r_s − sg q_s)²). Optional quantizer dropout: each training batch uses only the
/// first n ~ U{1…S} stages.
public final class ResidualVectorQuantizer: Quantizer {
    public let latentDim: Int
    public let stages: [Codebook]
    public var commitment: Float
    public var codebook: CodebookOptions
    public var quantizerDropout: Bool
    var rng: Kernels.SplitMix64
    var residuals: [Tensor] = []      // r_s, [D, N] per stage (training)
    var quantized: [Tensor] = []      // q_s
    var out: Tensor?, dz: Tensor?
    var activeStages = 0
    var trainedWords: [UInt32] = []   // [N, S] of the last training forward (afterStep)

    public var wordsPerToken: Int { stages.count }
    public var wordRange: Int { stages[0].size }

    public init(options o: Options, latentDim: Int, params: ParameterSet, seed: UInt64) {
        let S = o.stages, K = o.codebookSize, decay = o.codebook.decay
        commitment = o.commitment; codebook = o.codebook; quantizerDropout = o.quantizerDropout
        self.latentDim = latentDim
        stages = (0..<S).map { s in
            let c = Codebook(size: K, dimension: latentDim, params: params, name: "quantizer.layers.\(s).embedding")
            c.decay = decay
            return c
        }
        rng = Kernels.SplitMix64(seed: seed ^ 0x5256_51)
    }

    public func forward(_ z: Tensor, _ pass: QuantizerPass) -> Quantized {
        let D = latentDim, N = z.count / D, S = stages.count, training = pass.isTraining
        let active = training && quantizerDropout ? 1 + rng.int(below: S) : S
        // An inference pass works in buffers of its own: the training pass's residuals stay for backward.
        var residuals = training ? self.residuals : [], quantized = training ? self.quantized : []
        while residuals.count < S { residuals.append(Tensor(shape: [0])); quantized.append(Tensor(shape: [0])) }
        let o = training ? reusing(out, shape: z.shape) : Tensor(shape: z.shape)
        o.zero()
        var words = [UInt32](repeating: 0, count: N * S)
        var idx = [Int32](repeating: 0, count: N)
        var commit = 0.0
        for s in 0..<S {
            let r = reusing(residuals[s], shape: [D, N]); residuals[s] = r
            if s == 0 { r.copy(from: z) } else {
                let prev = residuals[s - 1], pq = quantized[s - 1]
                for i in 0..<(D * N) { r.data[i] = prev.data[i] - pq.data[i] }
            }
            let cb = stages[s]
            if training && codebook.kmeansInit && !cb.initialized { cb.kmeansInitialize(r.data, count: N, iterations: codebook.kmeansIterations, rng: &rng) }
            if training { cb.initialized = true }
            idx.withUnsafeMutableBufferPointer { cb.nearest(r.data, count: N, into: $0.baseAddress!) }
            let q = reusing(quantized[s], shape: [D, N]); quantized[s] = q
            for n in 0..<N {
                let e = cb.code(Int(idx[n]))
                for j in 0..<D { q.data[j * N + n] = e[j] }
                words[n * S + s] = UInt32(idx[n])
            }
            if s < active {
                for i in 0..<(D * N) { o.data[i] += q.data[i]; let t = Double(r.data[i] - q.data[i]); commit += t * t }
            }
        }
        guard training else { return Quantized(zq: o, words: words) }
        self.residuals = residuals; self.quantized = quantized; out = o; activeStages = active; trainedWords = words
        return Quantized(zq: o, words: words, losses: [(.commitLoss, Double(commitment) * commit / Double(D * N))],
                         statistics: [(.activeStages, Double(active))])
    }

    /// Straight-through: dL/dz = dL/dẑ + Σ_{s<n} 2β(r_s − q_s)/(D·N)  (r_s = z − Σ_{t<s} sg q_t).
    public func backward(_ dzq: Tensor) -> Tensor {
        let D = latentDim, N = dzq.count / D
        let g = reusing(dz, shape: dzq.shape); dz = g
        g.copy(from: dzq)
        let c = 2 * commitment / Float(D * N)
        for s in 0..<activeStages {
            let r = residuals[s], q = quantized[s]
            for i in 0..<(D * N) { g.data[i] += c * (r.data[i] - q.data[i]) }
        }
        return g
    }

    public func afterStep() -> [MetricValue] {
        let S = stages.count, N = trainedWords.count / S
        var restarts = 0
        for s in 0..<activeStages {
            let idx = (0..<N).map { Int32(trainedWords[$0 * S + s]) }
            idx.withUnsafeBufferPointer { stages[s].emaUpdate(residuals[s].data, count: N, indices: $0.baseAddress!, updateCodes: true) }
            if codebook.restart { restarts += stages[s].restartDeadCodes(threshold: codebook.deadThreshold, from: residuals[s].data, count: N, rng: &rng).count }
        }
        return [(.restarts, Double(restarts))]
    }

    /// words: [N, S] → ẑ = Σ_s e_s[word_s]; with `stages` < S only the first ones.
    public func dequantize(_ words: [UInt32], shape: [Int]) -> Tensor {
        dequantize(words, shape: shape, using: stages.count)
    }

    public func dequantize(_ words: [UInt32], shape: [Int], using n: Int) -> Tensor {
        let D = latentDim, S = stages.count, N = shape.dropFirst().reduce(1, *)
        let o = Tensor(shape: shape)
        for s in 0..<n {
            for p in 0..<N {
                let e = stages[s].code(Int(words[p * S + s]))
                for j in 0..<D { o.data[j * N + p] += e[j] }
            }
        }
        return o
    }

    public var randomState: UInt64 { get { rng.state } set { rng.state = newValue } }
    public var buffers: [(name: String, shape: [Int], values: [Float])] { stages.flatMap(\.buffers) }
    public func loadBuffers(_ b: [String: [Float]]) throws { for s in stages { try s.loadBuffers(b) } }
}

extension ResidualVectorQuantizer {
    /// The settings of `kind = "rvq"` besides the backbone's, each declared once in `options`.
    public struct Options: Equatable, Sendable, DeclaredOptions {
        public var stages = 0
        public var codebookSize = 0
        public var quantizerDropout = false
        public var commitment: Float = 0
        public var codebook = CodebookOptions.unset
        public static let unset = Options()
        private init() {}
        public static var options: [Option<Options>] {
            [
                .int("stages", \.stages, default: 2, "S quantizer stages (words per token)", check: ConfigKey.intIn(1...32)),
                .int("codebook_size", \.codebookSize, default: 512, "K codes per stage", check: ConfigKey.intIn(2...(1 << 20))),
                .bool("quantizer_dropout", \.quantizerDropout, default: false, "train each batch with the first n ~ U{1..S} stages"),
                .commitment(\.commitment),
            ] + CodebookOptions.options.map { $0.within(\.codebook) }
        }
    }
}

extension ResidualVectorQuantizer {
    /// `kind = "rvq"`.
    public static let kind = QuantizerKind(
        name: "rvq", summary: "residual VQ: S codebooks on successive residuals (EMA, k-means init, restarts)",
        labelKeys: ["stages", "codebook_size"], options: Options.self,
        make: { o, d, ps, seed in ResidualVectorQuantizer(options: o, latentDim: d, params: ps, seed: seed) })
}
