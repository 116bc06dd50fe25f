import Settings
import MetricCatalogue
import Kernels
import Layers

/// Index backpropagation quantization (IBQ, Shi et al. 2024, "Taming scalable visual tokenizer for
/// autoregressive image generation"): the code is chosen by the largest logit l_{n,k} = u_n·c_k, and the
/// one-hot choice is made differentiable by a straight-through softmax over all K codes,
///   ind = onehot(argmax l) + softmax(l) − sg(softmax(l)),   q_n = Σ_k ind_{n,k} c_k,
/// so every code gets a gradient at every step (VQ's straight-through updates only the chosen ones),
/// which is what keeps a large codebook in use. Forward value: q_n = c_{k*}. u: the encoder's
/// vectors [D, N]; the codebook C [K, D] is a parameter (uniform ±1/K init, as VQGAN's).
/// Losses: commitment β·mean((u − sg q)²) and the codebook loss mean((sg u − q)²), whose gradient
/// reaches q through both paths (the chosen code, and the softmax into every code and into u).
public final class IndexBackpropagationQuantizer: Quantizer {
    public struct Options: Equatable, Sendable, DeclaredOptions {
        public var codebookSize = 0
        public var commitment: Float = 0
        public static let unset = Options()
        private init() {}
        public static var options: [Option<Options>] {
            [
                .int("codebook_size", \.codebookSize, default: 1024, "K codes", check: ConfigKey.intIn(2...(1 << 16))),
                .commitment(\.commitment),
            ]
        }
    }

    public static let kind = QuantizerKind(
        name: "ibq", summary: "index backpropagation quantization (Shi et al. 2024): argmax of u·c, a straight-through softmax over all codes",
        labelKeys: ["codebook_size"], options: Options.self,
        make: { o, d, ps, _ in IndexBackpropagationQuantizer(latentDim: d, options: o, params: ps) })

    public let options: Options
    public let latentDim: Int                 // D
    let params: ParameterSet
    let offset: Int                           // C [K, D] in the flat parameter buffer
    // Saved by the training forward for backward.
    var u: Tensor?, q: Tensor?
    var probs: [Float] = []                   // softmax(l) [N, K]
    var indices: [Int32] = []

    public var wordsPerToken: Int { 1 }
    public var wordRange: Int { options.codebookSize }
    var codes: UnsafeMutablePointer<Float> { params.value(offset) }

    public init(latentDim: Int, options: Options, params: ParameterSet) {
        self.options = options; self.latentDim = latentDim; self.params = params
        offset = params.register("quantizer.embedding.weight", shape: [options.codebookSize, latentDim],
                                 initializer: .uniform(bound: 1 / Float(options.codebookSize)))
    }

    /// l [N, K] = uᵀ Cᵀ, one GEMM.
    func logits(_ u: UnsafePointer<Float>, count N: Int) -> [Float] {
        let K = options.codebookSize
        var l = [Float](repeating: 0, count: N * K)
        l.withUnsafeMutableBufferPointer { sgemm(transA: true, transB: true, m: N, n: K, k: latentDim, a: u, lda: N, b: codes, ldb: latentDim, c: $0.baseAddress!, ldc: K) }
        return l
    }

    public func forward(_ z: Tensor, _ pass: QuantizerPass) -> Quantized {
        let D = latentDim, N = z.count / D, K = options.codebookSize
        var l = logits(z.data, count: N)
        var chosen = [Int32](repeating: 0, count: N)
        for n in 0..<N {   // the first largest logit wins ties
            var best = -Float.infinity, arg = 0
            for k in 0..<K where l[n * K + k] > best { best = l[n * K + k]; arg = k }
            chosen[n] = Int32(arg)
        }
        let qT = Tensor(shape: z.shape)
        for n in 0..<N { let c = codes + Int(chosen[n]) * D; for j in 0..<D { qT.data[j * N + n] = c[j] } }
        guard pass.isTraining else { return Quantized(zq: qT, words: chosen.map { UInt32($0) }) }
        l.withUnsafeMutableBufferPointer { p in for n in 0..<N { softmaxInPlace(p.baseAddress! + n * K, count: K) } }
        let uT = Tensor(shape: z.shape); uT.copy(from: z)
        u = uT; q = qT; probs = l; indices = chosen
        let mse = squaredDistance(uT.data, qT.data, count: D * N) / Double(D * N)
        return Quantized(zq: qT, words: chosen.map { UInt32($0) }, losses: [(.commitLoss, Double(options.commitment) * mse), (.codebookLoss, mse)])
    }

    /// With G = dL/dq (the decoder's, plus the codebook loss's 2(q − u)/(D·N)):
    ///   a_{n,k} = G_n·c_k,  dl_{n,k} = p_{n,k}(a_{n,k} − Σ_j p_{n,j} a_{n,j}),
    ///   dL/du_n = Σ_k dl_{n,k} c_k + 2β(u_n − q_n)/(D·N),   dL/dc_k = Σ_n dl_{n,k} u_n + Σ_{n→k} G_n.
    public func backward(_ dzq: Tensor) -> Tensor {
        guard let uT = u, let qT = q else { preconditionFailure("IBQ.backward before a training forward") }
        let D = latentDim, N = uT.count / D, K = options.codebookSize
        let G = Tensor(shape: dzq.shape)
        let cb = 2 / Float(D * N)
        for i in 0..<(D * N) { G.data[i] = dzq.data[i] + cb * (qT.data[i] - uT.data[i]) }
        var a = [Float](repeating: 0, count: N * K)
        a.withUnsafeMutableBufferPointer { sgemm(transA: true, transB: true, m: N, n: K, k: D, a: G.data, lda: N, b: codes, ldb: D, c: $0.baseAddress!, ldc: K) }
        for n in 0..<N {
            var dot: Float = 0
            for k in 0..<K { dot += probs[n * K + k] * a[n * K + k] }
            for k in 0..<K { a[n * K + k] = probs[n * K + k] * (a[n * K + k] - dot) }   // a now holds dl
        }
        let dz = Tensor(shape: uT.shape)
        a.withUnsafeBufferPointer { dl in
            // dz [D, N] = Cᵀ dlᵀ;  dC [K, D] += dlᵀ uᵀ
            sgemm(transA: true, transB: true, m: D, n: N, k: K, a: codes, lda: D, b: dl.baseAddress!, ldb: K, c: dz.data, ldc: N)
            sgemm(transA: true, transB: true, m: K, n: D, k: N, a: dl.baseAddress!, lda: K, b: uT.data, ldb: N, beta: 1, c: params.grad(offset), ldc: D)
        }
        let dC = params.grad(offset)
        for n in 0..<N { let k = Int(indices[n]); for j in 0..<D { dC[k * D + j] += G.data[j * N + n] } }
        let cc = 2 * options.commitment / Float(D * N)
        for i in 0..<(D * N) { dz.data[i] += cc * (uT.data[i] - qT.data[i]) }
        return dz
    }

    public func dequantize(_ words: [UInt32], shape: [Int]) -> Tensor {
        let D = latentDim, N = shape.dropFirst().reduce(1, *)
        let qT = Tensor(shape: [D] + Array(shape.dropFirst()))
        for n in 0..<N { let c = codes + Int(words[n]) * D; for j in 0..<D { qT.data[j * N + n] = c[j] } }
        return qT
    }
}
