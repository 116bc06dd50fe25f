import Settings
import MetricCatalogue
import Kernels
import Layers

/// SimVQ (Zhu et al. 2024, "Addressing representation collapse in vector quantized models with one
/// linear layer"): the codes are a frozen random codebook C [K, D] (entries N(0, 1/D)) through one
/// learned linear map, E = C·Wᵀ + b [K, D]. Every code moves whenever W moves, so none is left
/// behind; nearest code in E, straight-through to the decoder.
/// Losses (as the reference code): the codebook loss mean((q − sg u)²), which trains W and b, plus
/// the commitment β·mean((u − sg q)²), which trains the encoder. u: the encoder's vectors [D, N].
public final class SimVQ: Quantizer {
    public struct Options: Equatable, Sendable, DeclaredOptions {
        public var codebookSize = 0
        public var commitment: Float = 0
        public static let unset = Options()
        private init() {}
        public static var options: [Option<Options>] {
            [
                .int("codebook_size", \.codebookSize, default: 1024, "K codes of the frozen random codebook", check: ConfigKey.intIn(2...(1 << 20))),
                .commitment(\.commitment),
            ]
        }
    }

    public let options: Options
    public let latentDim: Int                // D
    let frozen: Tensor                       // C [K, D], fixed at construction (a buffer, not a parameter)
    let map: Linear                          // W [D, D], b [D]: E = C·Wᵀ + b
    var codes: Tensor?                       // E [K, D] of the last forward
    var u: Tensor?, q: Tensor?, du: Tensor?
    var indices: [Int32] = []                // the codes the last training forward chose (backward)

    public var wordsPerToken: Int { 1 }
    public var wordRange: Int { options.codebookSize }

    public init(latentDim: Int, options: Options, params: ParameterSet, seed: UInt64) {
        self.options = options; self.latentDim = latentDim
        map = Linear(latentDim, latentDim, params: params, name: "quantizer.embedding_proj")
        map.computesInputGradient = false
        var rng = Kernels.SplitMix64(seed: seed ^ 0x51_3d_5651)
        let std = 1 / Float(latentDim).squareRoot()
        frozen = Tensor(shape: [options.codebookSize, latentDim], values: (0..<(options.codebookSize * latentDim)).map { _ in rng.normal(mean: 0, std: std) })
    }

    /// E = C·Wᵀ + b: [K, D]
    func codeMatrix() -> Tensor { map.forward(frozen) }

    public func forward(_ z: Tensor, _ pass: QuantizerPass) -> Quantized {
        let D = latentDim, N = z.count / D, training = pass.isTraining
        let uT = training ? reusing(u, shape: z.shape) : Tensor(shape: z.shape)
        uT.copy(from: z)
        let E = codeMatrix()
        let chosen = Self.nearest(uT.data, count: N, codes: E.data, size: options.codebookSize, dimension: D)
        let qT = training ? reusing(q, shape: z.shape) : Tensor(shape: z.shape)
        for n in 0..<N { let e = E.data + Int(chosen[n]) * D; for j in 0..<D { qT.data[j * N + n] = e[j] } }
        var losses: [MetricValue] = []
        if training {
            u = uT; q = qT; codes = E; indices = chosen
            var s = 0.0
            for i in 0..<(D * N) { let t = Double(uT.data[i] - qT.data[i]); s += t * t }
            let mse = s / Double(D * N)
            losses = [(.commitLoss, Double(options.commitment) * mse), (.codebookLoss, mse)]
        }
        return Quantized(zq: qT, words: chosen.map { UInt32($0) }, losses: losses)
    }

    /// Index of the nearest code for each column of v [D, N] among the rows of codes [K, D]:
    /// argmin_k ‖e_k‖² − 2 v·e_k, by GEMM in chunks of columns.
    static func nearest(_ v: UnsafePointer<Float>, count N: Int, codes E: UnsafePointer<Float>, size K: Int, dimension D: Int) -> [Int32] {
        var norms = [Float](repeating: 0, count: K)
        for k in 0..<K { var s: Float = 0; for j in 0..<D { s += E[k * D + j] * E[k * D + j] }; norms[k] = s }
        var out = [Int32](repeating: 0, count: N)
        let chunk = max(1, min(N, (1 << 22) / K))
        var scores = [Float](repeating: 0, count: chunk * K)
        var start = 0
        while start < N {
            let rows = min(chunk, N - start)
            scores.withUnsafeMutableBufferPointer { sb in
                // scores[r, k] = v_{start+r} · e_k
                sgemm(transA: true, transB: true, m: rows, n: K, k: D, a: v + start, lda: N, b: E, ldb: D, c: sb.baseAddress!, ldc: K)
                let sp = sb.baseAddress!
                out.withUnsafeMutableBufferPointer { ob in
                    let o = ob.baseAddress!
                    parallelRanges(rows, minimumPerTask: 16) { lo, hi in
                        for r in lo..<hi {
                            var best = Float.infinity, arg = 0
                            for k in 0..<K { let d = norms[k] - 2 * sp[r * K + k]; if d < best { best = d; arg = k } }
                            o[start + r] = Int32(arg)
                        }
                    }
                }
            }
            start += rows
        }
        return out
    }

    /// The reference: brute-force squared distances in Double.
    static func nearestNaive(_ v: [Float], count N: Int, codes E: [Float], size K: Int, dimension D: Int) -> [Int32] {
        (0..<N).map { n in
            var best = Double.infinity, arg = 0
            for k in 0..<K {
                var d = 0.0
                for j in 0..<D { let t = Double(v[j * N + n]) - Double(E[k * D + j]); d += t * t }
                if d < best { best = d; arg = k }
            }
            return Int32(arg)
        }
    }

    public func backward(_ dzq: Tensor) -> Tensor {
        guard let uT = u, let qT = q, let E = codes else { preconditionFailure("SimVQ.backward before a training forward") }
        let D = latentDim, N = uT.count / D, K = options.codebookSize
        // Straight-through to the encoder, plus the commitment 2β(u − q)/(D·N).
        let g = reusing(du, shape: uT.shape); du = g
        let c = 2 * options.commitment / Float(D * N)
        for i in 0..<(D * N) { g.data[i] = dzq.data[i] + c * (uT.data[i] - qT.data[i]) }
        // The codebook loss mean((q − sg u)²) reaches the codes it chose: dE[k] = Σ_{n→k} 2(e_k − u_n)/(D·N),
        // then W and b through the linear map.
        let dE = Tensor(shape: [K, D])
        let s = 2 / Float(D * N)
        for n in 0..<N {
            let k = Int(indices[n])
            for j in 0..<D { dE.data[k * D + j] += s * (E.data[k * D + j] - uT.data[j * N + n]) }
        }
        _ = map.backward(dE)
        return g
    }

    public func dequantize(_ words: [UInt32], shape: [Int]) -> Tensor {
        let D = latentDim, N = shape.dropFirst().reduce(1, *)
        let E = codeMatrix()
        let qT = Tensor(shape: [D] + Array(shape.dropFirst()))
        for n in 0..<N { let e = E.data + Int(words[n]) * D; for j in 0..<D { qT.data[j * N + n] = e[j] } }
        return qT
    }

    public var buffers: [(name: String, shape: [Int], values: [Float])] { [("quantizer.frozen_codebook", frozen.shape, frozen.values)] }
    public func loadBuffers(_ buffers: [String: [Float]]) throws {
        guard let c = buffers["quantizer.frozen_codebook"], c.count == frozen.count else {
            throw ConfigError(key: "quantizer.frozen_codebook", "checkpoint lacks the frozen codebook (or it has the wrong size)")
        }
        for i in 0..<c.count { frozen.data[i] = c[i] }
    }
}

extension SimVQ {
    /// `kind = "simvq"`.
    public static let kind = QuantizerKind(
        name: "simvq", summary: "SimVQ (Zhu et al. 2024): a frozen random codebook through one learned linear map, nearest code, straight-through",
        labelKeys: ["codebook_size"], options: Options.self,
        make: { o, d, ps, seed in SimVQ(latentDim: d, options: o, params: ps, seed: seed) })
}
