import Settings
import MetricCatalogue
import Foundation
import Kernels
import Layers

/// Lookup-free quantization (MAGVIT-v2, Yu et al. 2023): each of d latent channels becomes one bit,
/// q_i = +1 if u_i > 0 else −1, V = 2^d, index = Σ_i [q_i > 0]·2^i. Straight-through gradient.
/// Losses (weights as in lucidrains' reference): commitment β·mean((u − sg q)²) and the entropy
/// penalty  w·( mean_n H(p_n) − γ·H(mean_n p_n) ),  p_n = softmax over the 2^d codes c of
/// 2·u_n·c / τ (= −‖u_n − c‖²/τ up to a constant): confident per-token assignments, diverse over
/// the batch. Computed exactly over all 2^d codes, in chunks.
/// Stabilizers (off by default): `norm`, a non-affine GroupNorm with one group on u before the sign
/// (each sample's bit channels standardised); `entropyBoost`, the entropy weight multiplied by
/// 1 + boost·max(0, 1 − step/boostSteps) (Open-MAGVIT2's codebook_enlarge schedule).
public final class LookupFreeQuantizer: Quantizer {
    public let bits: Int                  // d
    public let latentDim: Int
    public var commitment: Float
    public var entropyWeight: Float
    public var diversity: Float           // γ
    public var temperature: Float         // τ (LFQ's default 0.01: inverse temperature 100)
    public var entropyBoost: Float
    public var entropyBoostSteps: Int
    var trainingStep = 0                  // of the last training forward (the boost schedule)
    let projectIn: Conv2d?, projectOut: Conv2d?
    var norm: GroupNorm? = nil
    var u: Tensor?, q: Tensor?, du: Tensor?
    var entropyGrad: [Float] = []        // dE/du of the last training forward, [d, N]

    public var wordsPerToken: Int { 1 }
    public var wordRange: Int { 1 << bits }

    /// A bare LFQ of d = `bits` (options at their defaults).
    public convenience init(bits: Int, latentDim: Int, params: ParameterSet) {
        var o = Options.defaults; o.signBits.bits = bits
        self.init(options: o, latentDim: latentDim, params: params)
    }

    public init(options: Options, latentDim: Int, params: ParameterSet) {
        let o = options.signBits, bits = o.bits
        precondition(bits >= 1 && bits <= 20)
        self.bits = bits; self.latentDim = latentDim
        entropyWeight = o.entropyWeight; diversity = o.diversity; commitment = o.commitment; temperature = o.temperature
        entropyBoost = o.entropyBoost; entropyBoostSteps = o.entropyBoostSteps
        if bits != latentDim {
            projectIn = Conv2d(latentDim, bits, kernel: 1, params: params, name: "quantizer.project_in")
            projectOut = Conv2d(bits, latentDim, kernel: 1, params: params, name: "quantizer.project_out")
        } else { projectIn = nil; projectOut = nil }
        if o.norm { norm = GroupNorm(groups: 1, channels: bits, affine: false, params: params, name: "quantizer.norm") }
    }

    /// The entropy weight at the current training step (with the boost schedule).
    var scheduledEntropyWeight: Float {
        entropyWeight * (1 + entropyBoost * max(0, 1 - Float(trainingStep) / Float(entropyBoostSteps)))
    }

    public func forward(_ z: Tensor, _ pass: QuantizerPass) -> Quantized {
        let training = pass.isTraining
        if training { trainingStep = pass.step }
        let projected = projectIn?.forward(z) ?? z
        let p = norm?.forward(projected) ?? projected
        let shape = [bits] + Array(z.shape.dropFirst())
        let N = shape.dropFirst().reduce(1, *)
        let uT = training ? reusing(u, shape: shape) : Tensor(shape: shape)
        uT.copy(from: p)
        let qT = training ? reusing(q, shape: shape) : Tensor(shape: shape)
        if training { u = uT; q = qT }
        var words = [UInt32](repeating: 0, count: N)
        for i in 0..<bits {
            for n in 0..<N {
                let positive = uT.data[i * N + n] > 0
                qT.data[i * N + n] = positive ? 1 : -1
                if positive { words[n] |= 1 << UInt32(i) }
            }
        }
        var losses: [MetricValue] = [], statistics: [MetricValue] = []
        if training {
            var s = 0.0
            for i in 0..<(bits * N) { let t = Double(uT.data[i] - qT.data[i]); s += t * t }
            let (perSample, batch, grad) = entropyTerms(uT.data, count: N)
            entropyGrad = grad
            losses = [(.commitLoss, Double(commitment) * s / Double(bits * N)),
                      (.entropyLoss, Double(scheduledEntropyWeight) * (perSample - Double(diversity) * batch))]
            statistics = [(.sampleEntropy, perSample), (.codebookEntropy, batch)]
        }
        return Quantized(zq: projectOut?.forward(qT) ?? qT, words: words, losses: losses, statistics: statistics)
    }

    /// The ±1 code matrix C: [K, d], row k holds the bits of k.
    lazy var codeMatrix: [Float] = {
        let K = 1 << bits
        var c = [Float](repeating: -1, count: K * bits)
        for k in 0..<K { for i in 0..<bits where (k >> i) & 1 == 1 { c[k * bits + i] = 1 } }
        return c
    }()

    /// mean_n H(p_n), H(mean_n p_n), and d(mean H(p_n) − γ H(p̄))/du: [d, N].
    /// logits l_{n,k} = (2/τ) Σ_i u_{i,n} c_{k,i} (one GEMM per chunk of rows), p_n = softmax(l_n);
    ///   dH(p_n)/dl_{n,k} = −p_{n,k}(log p_{n,k} + H(p_n))
    ///   dH(p̄)/dl_{n,k}  = −(1/N) p_{n,k}(log p̄_k − Σ_j p_{n,j} log p̄_j)
    /// and du_{i,n} = (2/τ) Σ_k dl_{n,k} c_{k,i} (a second GEMM).
    func entropyTerms(_ u: UnsafePointer<Float>, count N: Int) -> (Double, Double, [Float]) {
        let K = 1 << bits, d = bits, scale = 2 / temperature
        let chunk = max(1, min(N, (1 << 22) / K))
        var probs = [Float](repeating: 0, count: chunk * K)
        var mean = [Double](repeating: 0, count: K)
        var perSample = 0.0
        let C = codeMatrix
        /// probs[r, k] = softmax_k(scale · u_{start+r} · c_k), r < rows
        func softmaxRows(_ start: Int, _ rows: Int) {
            probs.withUnsafeMutableBufferPointer { pb in
                C.withUnsafeBufferPointer { cb in
                    sgemm(transA: true, transB: true, m: rows, n: K, k: d, alpha: scale, a: u + start, lda: N,
                          b: cb.baseAddress!, ldb: d, c: pb.baseAddress!, ldc: K)
                }
                let p = pb.baseAddress!
                parallelRanges(rows, minimumPerTask: 16) { lo, hi in
                    for r in lo..<hi { softmaxInPlace(p + r * K, count: K) }
                }
            }
        }
        // Pass 1: p̄ and the mean per-sample entropy.
        var start = 0
        while start < N {
            let rows = min(chunk, N - start)
            softmaxRows(start, rows)
            for r in 0..<rows {
                var h = 0.0
                for k in 0..<K {
                    let p = Double(probs[r * K + k])
                    mean[k] += p
                    if p > 0 { h -= p * log(p) }
                }
                perSample += h
            }
            start += rows
        }
        for k in 0..<K { mean[k] /= Double(N) }
        perSample /= Double(N)
        var batch = 0.0
        let logMean = mean.map { $0 > 0 ? log($0) : -80.0 }
        for k in 0..<K where mean[k] > 0 { batch -= mean[k] * logMean[k] }
        // Pass 2: dl (in place of the probabilities), then du = scale · dl · C.
        var grad = [Float](repeating: 0, count: d * N)
        var g = [Float](repeating: 0, count: chunk * d)
        let γ = Double(diversity)
        start = 0
        while start < N {
            let rows = min(chunk, N - start)
            softmaxRows(start, rows)
            for r in 0..<rows {
                var h = 0.0, cross = 0.0
                for k in 0..<K {
                    let p = Double(probs[r * K + k])
                    if p > 0 { h -= p * log(p) }
                    cross += p * logMean[k]
                }
                for k in 0..<K {
                    let p = Double(probs[r * K + k])
                    probs[r * K + k] = p > 0 ? Float((-p * (log(p) + h) + γ * p * (logMean[k] - cross)) / Double(N)) : 0
                }
            }
            probs.withUnsafeBufferPointer { pb in C.withUnsafeBufferPointer { cb in g.withUnsafeMutableBufferPointer { gb in
                sgemm(m: rows, n: d, k: K, alpha: scale, a: pb.baseAddress!, lda: K, b: cb.baseAddress!, ldb: d, c: gb.baseAddress!, ldc: d)
            } } }
            for r in 0..<rows { for i in 0..<d { grad[i * N + start + r] = g[r * d + i] } }
            start += rows
        }
        return (perSample, batch, grad)
    }

    public func backward(_ dzq: Tensor) -> Tensor {
        guard let uT = u, let qT = q else { preconditionFailure("LFQ.backward before a training forward") }
        let dq = projectOut?.backward(dzq) ?? dzq
        let g = reusing(du, shape: uT.shape); du = g
        let N = uT.count / bits
        let c = 2 * commitment / Float(bits * N), w = scheduledEntropyWeight
        for i in 0..<(bits * N) {
            g.data[i] = dq.data[i] + c * (uT.data[i] - qT.data[i]) + w * entropyGrad[i]
        }
        let dp = norm?.backward(g) ?? g
        return projectIn?.backward(dp) ?? dp
    }

    public func dequantize(_ words: [UInt32], shape: [Int]) -> Tensor {
        let N = shape.dropFirst().reduce(1, *)
        let qT = Tensor(shape: [bits] + Array(shape.dropFirst()))
        for n in 0..<N { for i in 0..<bits { qT.data[i * N + n] = (words[n] >> UInt32(i)) & 1 == 1 ? 1 : -1 } }
        return projectOut?.forward(qT) ?? qT
    }
}

extension LookupFreeQuantizer {
    /// The settings of `kind = "lfq"` besides the backbone's: the sign-bit options (τ = 0.01) and the stabilizers.
    public struct Options: Equatable, Sendable, DeclaredOptions {
        public var signBits = SignBitOptions.unset
        public static let unset = Options()
        private init() {}
        public static var options: [Option<Options>] {
            (SignBitOptions.options(temperature: 0.01, maxBits: 16, temperatureMeaning: "tau of the code distribution softmax(2 u·c / tau)")
                + SignBitOptions.stabilizers).map { $0.within(\.signBits) }
        }
    }
}

extension LookupFreeQuantizer {
    /// `kind = "lfq"`.
    public static let kind = QuantizerKind(
        name: "lfq", summary: "lookup-free quantization (MAGVIT-v2): sign bits, entropy penalty",
        labelKeys: ["bits"], latent: 0, latentDoc: "latent channels D (0: one per bit, no projection)",
        options: Options.self, quantizerDim: { $0.signBits.bits },
        make: { o, d, ps, _ in LookupFreeQuantizer(options: o, latentDim: d, params: ps) })
}
