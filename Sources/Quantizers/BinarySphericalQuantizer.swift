#if canImport(Glibc)
import Glibc
#endif
import Settings
import MetricCatalogue
import Foundation
import Kernels
import Layers

/// Binary spherical quantization (Zhao et al. 2024, "Image and Video Tokenization with Binary
/// Spherical Quantization"), the fix for LFQ's collapse:
///   z [D, N] → (1×1 projection to d) → v → u = v/‖v‖ (the unit sphere) → q = sign(u)/√d
///   (a corner of the hypercube, also on the sphere), index = Σ_i [u_i > 0]·2^i, V = 2^d;
///   straight-through q_st = u + sg(q − u) → (projection back to D).
/// Losses: commitment β·mean((u − sg q)²) and the entropy penalty w·(mean_n H(p_n) − γ·H(p̄)) with
/// the soft code distribution p(c | u) ∝ exp(2⟨u, c⟩/τ) over c ∈ {±1/√d}^d. It factorizes over the
/// bits, p(c_i = +1/√d) = σ(4·u_i/(τ√d)), so the per-sample entropy is exact: the sum of the bits'
/// binary entropies. The codebook entropy uses BSQ's factorized approximation with groups of one
/// bit, Σ_i H_b(mean_n p_{n,i}) (an upper bound of H(p̄)). Every code is within reach of the
/// gradient because u lives on the sphere, not on an unbounded line as in LFQ.
public final class BinarySphericalQuantizer: Quantizer {
    /// The settings of `kind = "bsq"` besides the backbone's: the sign-bit options with τ = 1 (no stabilizers).
    public struct Options: Equatable, Sendable, DeclaredOptions {
        public var signBits = SignBitOptions.unset
        public static let unset = Options()
        private init() {}
        public static var options: [Option<Options>] {
            SignBitOptions.options(temperature: 1.0, maxBits: 30, temperatureMeaning: "tau of the soft code distribution exp(2<u, c>/tau)").map { $0.within(\.signBits) }
        }
    }

    public let options: SignBitOptions
    public let bits: Int                      // d
    public let latentDim: Int                 // D
    let projectIn: Conv2d?, projectOut: Conv2d?
    var u: Tensor?, q: Tensor?, du: Tensor?
    var norms: [Float] = []                   // ‖v_n‖ before normalisation
    var entropyGrad: [Float] = []             // d(H_sample − γ H_codebook)/du: [d, N]

    public var wordsPerToken: Int { 1 }
    public var wordRange: Int { 1 << bits }

    public init(options: Options, latentDim: Int, params: ParameterSet) {
        self.options = options.signBits; bits = options.signBits.bits; self.latentDim = latentDim
        if bits != latentDim {
            projectIn = Conv2d(latentDim, bits, kernel: 1, params: params, name: "quantizer.project_in")
            projectOut = Conv2d(bits, latentDim, kernel: 1, params: params, name: "quantizer.project_out")
        } else { projectIn = nil; projectOut = nil }
    }

    public func forward(_ z: Tensor, _ pass: QuantizerPass) -> Quantized {
        let training = pass.isTraining
        let v = projectIn?.forward(z) ?? z
        let shape = [bits] + Array(z.shape.dropFirst())
        let N = shape.dropFirst().reduce(1, *), d = bits
        let uT = training ? reusing(u, shape: shape) : Tensor(shape: shape)
        uT.copy(from: v)
        let columnNorms = normalizeColumns(uT.data, rows: d, columns: N)
        let qT = training ? reusing(q, shape: shape) : Tensor(shape: shape)
        if training { u = uT; q = qT; norms = columnNorms }
        let side = 1 / Float(d).squareRoot()
        var words = [UInt32](repeating: 0, count: N)
        for i in 0..<d {
            for n in 0..<N {
                let positive = uT.data[i * N + n] > 0
                qT.data[i * N + n] = positive ? side : -side
                if positive { words[n] |= 1 << UInt32(i) }
            }
        }
        var losses: [MetricValue] = [], statistics: [MetricValue] = []
        if training {
            var s = 0.0
            for i in 0..<(d * N) { let t = Double(uT.data[i] - qT.data[i]); s += t * t }
            let (perSample, codebook, grad) = entropyTerms(uT.data, count: N)
            entropyGrad = grad
            losses = [(.commitLoss, Double(options.commitment) * s / Double(d * N)),
                      (.entropyLoss, Double(options.entropyWeight) * (perSample - Double(options.diversity) * codebook))]
            statistics = [(.sampleEntropy, perSample), (.codebookEntropy, codebook)]
        }
        return Quantized(zq: projectOut?.forward(qT) ?? qT, words: words, losses: losses, statistics: statistics)
    }

    /// mean_n Σ_i H_b(p_{n,i}), Σ_i H_b(p̄_i) (nats) and d(first − γ·second)/du: [d, N], with
    /// p_{n,i} = σ(a·u_{i,n}), a = 4/(τ√d), p̄_i = mean_n p_{n,i}:
    ///   dH_b(p)/dp = log((1 − p)/p),  dp/du = a·p(1 − p).
    func entropyTerms(_ u: UnsafePointer<Float>, count N: Int) -> (Double, Double, [Float]) {
        let d = bits
        let a = 4 / (Double(options.temperature) * Double(d).squareRoot()), γ = Double(options.diversity)
        func hb(_ p: Double) -> Double { (p > 0 ? -p * log(p) : 0) + (p < 1 ? -(1 - p) * log(1 - p) : 0) }
        var p = [Double](repeating: 0, count: d * N)
        var mean = [Double](repeating: 0, count: d)
        var perSample = 0.0
        for i in 0..<d {
            for n in 0..<N {
                let x = a * Double(u[i * N + n])
                let pi = x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x))
                p[i * N + n] = pi
                mean[i] += pi
                perSample += hb(pi)
            }
        }
        perSample /= Double(N)
        for i in 0..<d { mean[i] /= Double(N) }
        let codebook = mean.reduce(0) { $0 + hb($1) }
        var grad = [Float](repeating: 0, count: d * N)
        let eps = 1e-12
        for i in 0..<d {
            let m = min(max(mean[i], eps), 1 - eps)
            let dCodebook = log((1 - m) / m)
            for n in 0..<N {
                let pi = min(max(p[i * N + n], eps), 1 - eps)
                let slope = a * pi * (1 - pi)
                grad[i * N + n] = Float((log((1 - pi) / pi) - γ * dCodebook) * slope / Double(N))
            }
        }
        return (perSample, codebook, grad)
    }

    public func backward(_ dzq: Tensor) -> Tensor {
        guard let uT = u, let qT = q else { preconditionFailure("BSQ.backward before a training forward") }
        let dq = projectOut?.backward(dzq) ?? dzq
        let d = bits, N = uT.count / d
        let g = reusing(du, shape: uT.shape); du = g
        // dL/du: straight-through + commitment 2β(u − q)/(d·N) + the entropy penalty.
        let c = 2 * options.commitment / Float(d * N), w = options.entropyWeight
        for i in 0..<(d * N) { g.data[i] = dq.data[i] + c * (uT.data[i] - qT.data[i]) + w * entropyGrad[i] }
        // Through u = v/‖v‖: dv = (du − u·⟨u, du⟩)/‖v‖.
        var dot = [Float](repeating: 0, count: N)
        for i in 0..<d { for n in 0..<N { dot[n] += uT.data[i * N + n] * g.data[i * N + n] } }
        for i in 0..<d { for n in 0..<N { g.data[i * N + n] = (g.data[i * N + n] - uT.data[i * N + n] * dot[n]) / max(norms[n], 1e-12) } }
        return projectIn?.backward(g) ?? g
    }

    public func dequantize(_ words: [UInt32], shape: [Int]) -> Tensor {
        let N = shape.dropFirst().reduce(1, *)
        let qT = Tensor(shape: [bits] + Array(shape.dropFirst()))
        let side = 1 / Float(bits).squareRoot()
        for n in 0..<N { for i in 0..<bits { qT.data[i * N + n] = (words[n] >> UInt32(i)) & 1 == 1 ? side : -side } }
        return projectOut?.forward(qT) ?? qT
    }
}

extension BinarySphericalQuantizer {
    /// `kind = "bsq"`.
    public static let kind = QuantizerKind(
        name: "bsq", summary: "binary spherical quantization (Zhao et al. 2024): unit-sphere projection, sign bits scaled by 1/sqrt(d), entropy penalty",
        labelKeys: ["bits"], latent: 0, latentDoc: "latent channels D (0: one per bit, no projection)",
        options: Options.self, quantizerDim: { $0.signBits.bits },
        make: { o, d, ps, _ in BinarySphericalQuantizer(options: o, latentDim: d, params: ps) })
}
