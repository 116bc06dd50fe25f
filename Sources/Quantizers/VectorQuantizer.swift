import Settings
import MetricCatalogue
import Kernels
import Layers

/// The VQ-VAE bottleneck (van den Oord et al. 2017) with the tricks that keep a codebook alive:
///   z [D, N] → (1×1 projection to codebook_dim d, "factorized codes") → (l2-normalise, "cosine
///   codes") → nearest code → straight-through → (projection back to D).
/// Losses: commitment β·mean((u − sg(q))²) always; with `ema` off, the codebook loss
/// mean((sg(u) − q)²) trains the codes by gradient, with `ema` on the codes follow an EMA of
/// their assigned vectors. k-means initialisation on the first training batch; dead codes
/// (EMA count under `deadThreshold`) re-seeded from current encoder outputs.
public final class VQBottleneck: Quantizer {
    /// The settings of `kind = "vq-vae"` besides the backbone's, each declared once in `options`.
    public struct Options: Equatable, Sendable, DeclaredOptions {
        public var codebookSize = 0
        public var codebookDim: Int? = nil     // nil: quantize in D directly
        public var ema = false
        public var cosine = false
        public var commitment: Float = 0
        public var codebook = CodebookOptions.unset
        public static let unset = Options()
        private init() {}
        public static var options: [Option<Options>] {
            [
                .int("codebook_size", \.codebookSize, default: 512, "K codes", check: ConfigKey.intIn(2...(1 << 20))),
                .intOrNone("codebook_dim", \.codebookDim, "factorized codes: project to this dimension (0: latent_dim)", check: ConfigKey.intIn(0...1024)),
                .bool("ema", \.ema, default: true, "codebook by EMA (true) or by gradient of the codebook loss (false)"),
                .bool("cosine", \.cosine, default: false, "l2-normalised codes and encoder outputs"),
                .commitment(\.commitment),
            ] + CodebookOptions.options.map { $0.within(\.codebook) }
        }
    }

    public let options: Options
    public let latentDim: Int                 // D
    public let codebook: Codebook
    let projectIn: Conv2d?                    // D → d
    let projectOut: Conv2d?                   // d → D
    var rng: Kernels.SplitMix64

    // Saved by the training forward for backward / afterStep.
    var u: Tensor?                            // [d, B, h, w] vectors searched (normalised if cosine)
    var uNorms: [Float] = []                  // ‖u‖ before normalisation (cosine)
    var q: Tensor?                            // [d, B, h, w] the chosen codes (as used)
    var indices: [Int32] = []                 // the codes the last training forward chose (afterStep, backward)
    var du: Tensor?, dRaw: Tensor?

    public var wordsPerToken: Int { 1 }
    public var wordRange: Int { options.codebookSize }
    var d: Int { codebook.dimension }

    public init(latentDim: Int, options: Options, params: ParameterSet, seed: UInt64) {
        self.options = options; self.latentDim = latentDim
        let d = options.codebookDim ?? latentDim
        if d != latentDim {
            projectIn = Conv2d(latentDim, d, kernel: 1, params: params, name: "quantizer.project_in")
            projectOut = Conv2d(d, latentDim, kernel: 1, params: params, name: "quantizer.project_out")
        } else { projectIn = nil; projectOut = nil }
        codebook = Codebook(size: options.codebookSize, dimension: d, params: params, name: "quantizer.embedding")
        codebook.decay = options.codebook.decay
        rng = Kernels.SplitMix64(seed: seed ^ 0x5651)
    }

    public func forward(_ z: Tensor, _ pass: QuantizerPass) -> Quantized {
        let training = pass.isTraining
        let shape = [d] + Array(z.shape.dropFirst())
        let N = shape.dropFirst().reduce(1, *)
        let raw = projectIn?.forward(z) ?? z
        let uT = training ? reusing(u, shape: shape) : Tensor(shape: shape)
        if training { u = uT }
        uT.copy(from: raw)
        if options.cosine { let norms = normalizeColumns(uT.data, rows: d, columns: N); if training { uNorms = norms } }
        if training && options.codebook.kmeansInit && !codebook.initialized {
            codebook.kmeansInitialize(uT.data, count: N, iterations: options.codebook.kmeansIterations, rng: &rng)
        }
        if training { codebook.initialized = true }
        var chosen = [Int32](repeating: 0, count: N)
        let codes = codeMatrix()
        codes.withUnsafeBufferPointer { cb in
            chosen.withUnsafeMutableBufferPointer { codebook.nearest(uT.data, count: N, into: $0.baseAddress!, codes: cb.baseAddress!) }
        }
        let qT = training ? reusing(q, shape: shape) : Tensor(shape: shape)
        gather(codes, chosen, into: qT.data, columns: N)
        var losses: [MetricValue] = []
        if training {
            q = qT; indices = chosen
            let mse = squaredDistance(uT.data, qT.data, count: d * N) / Double(d * N)
            losses = [(.commitLoss, Double(options.commitment) * mse)] + (options.ema ? [] : [(.codebookLoss, mse)])
        }
        return Quantized(zq: projectOut?.forward(qT) ?? qT, words: chosen.map { UInt32($0) }, losses: losses)
    }

    /// The codes as searched and emitted: [K, d], l2-normalised rows when cosine.
    func codeMatrix() -> [Float] {
        var c = Array(UnsafeBufferPointer(start: codebook.weights, count: codebook.size * d))
        if options.cosine {
            for k in 0..<codebook.size {
                var s: Float = 0
                for j in 0..<d { s += c[k * d + j] * c[k * d + j] }
                let inv = 1 / max(s.squareRoot(), 1e-12)
                for j in 0..<d { c[k * d + j] *= inv }
            }
        }
        return c
    }

    /// out[j, n] = codes[indices[n], j]
    func gather(_ codes: [Float], _ indices: [Int32], into out: UnsafeMutablePointer<Float>, columns N: Int) {
        codes.withUnsafeBufferPointer { c in
            for j in 0..<d {
                let row = out + j * N
                for n in 0..<N { row[n] = c[Int(indices[n]) * d + j] }
            }
        }
    }

    public func backward(_ dzq: Tensor) -> Tensor {
        guard let uT = u, let qT = q else { preconditionFailure("VQBottleneck.backward before a training forward") }
        let dq = projectOut?.backward(dzq) ?? dzq            // [d, B, h, w]
        let N = uT.count / d
        let g = reusing(du, shape: uT.shape); du = g
        // Straight-through: dL/du = dL/dq, plus the commitment gradient 2β(u − q)/(d·N).
        let c = 2 * options.commitment / Float(d * N)
        for i in 0..<(d * N) { g.data[i] = dq.data[i] + c * (uT.data[i] - qT.data[i]) }
        if !options.ema { codebookGradient(uT, qT, N) }
        if options.cosine {
            // u = r/‖r‖: dL/dr = (g − (u·g) u) / ‖r‖, per column.
            for n in 0..<N {
                var dot: Float = 0
                for j in 0..<d { dot += uT.data[j * N + n] * g.data[j * N + n] }
                let inv = 1 / max(uNorms[n], 1e-12)
                for j in 0..<d { g.data[j * N + n] = (g.data[j * N + n] - dot * uT.data[j * N + n]) * inv }
            }
        }
        return projectIn?.backward(g) ?? g
    }

    /// Codebook loss mean((sg(u) − q)²): dL/dq_k = Σ_{n→k} 2(q_k − u_n)/(d·N), through the
    /// row normalisation when cosine (q_k = e_k/‖e_k‖).
    func codebookGradient(_ uT: Tensor, _ qT: Tensor, _ N: Int) {
        let K = codebook.size
        var gq = [Float](repeating: 0, count: K * d)
        let c = 2 / Float(d * N)
        for j in 0..<d {   // rows of u and q read contiguously; each gq entry still sums over n in order
            let qr = qT.data + j * N, ur = uT.data + j * N
            for n in 0..<N { gq[Int(indices[n]) * d + j] += c * (qr[n] - ur[n]) }
        }
        let grad = codebook.params.grad(codebook.offset), e = codebook.weights
        for k in 0..<K {
            if options.cosine {
                var s: Float = 0, dot: Float = 0
                for j in 0..<d { s += e[k * d + j] * e[k * d + j] }
                let norm = max(s.squareRoot(), 1e-12)
                for j in 0..<d { dot += e[k * d + j] / norm * gq[k * d + j] }
                for j in 0..<d { grad[k * d + j] += (gq[k * d + j] - dot * e[k * d + j] / norm) / norm }
            } else {
                for j in 0..<d { grad[k * d + j] += gq[k * d + j] }
            }
        }
    }

    public func afterStep() -> [MetricValue] {
        guard let uT = u else { return [] }
        let N = uT.count / d
        indices.withUnsafeBufferPointer { codebook.emaUpdate(uT.data, count: N, indices: $0.baseAddress!, updateCodes: options.ema) }
        let restarts = options.codebook.restart ? codebook.restartDeadCodes(threshold: options.codebook.deadThreshold, from: uT.data, count: N, rng: &rng).count : 0
        return [(.restarts, Double(restarts))]
    }

    public func dequantize(_ words: [UInt32], shape: [Int]) -> Tensor {
        let N = shape.dropFirst().reduce(1, *)
        precondition(words.count == N)
        let qT = Tensor(shape: [d] + Array(shape.dropFirst()))
        gather(codeMatrix(), words.map { Int32($0) }, into: qT.data, columns: N)
        return projectOut?.forward(qT) ?? qT
    }

    public var randomState: UInt64 { get { rng.state } set { rng.state = newValue } }
    public var buffers: [(name: String, shape: [Int], values: [Float])] { codebook.buffers }
    public func loadBuffers(_ b: [String: [Float]]) throws { try codebook.loadBuffers(b) }
}

/// Normalises each column of x: [rows, columns] to unit length; returns the old norms.
func normalizeColumns(_ x: UnsafeMutablePointer<Float>, rows: Int, columns N: Int) -> [Float] {
    var norms = [Float](repeating: 0, count: N)
    for j in 0..<rows { for n in 0..<N { norms[n] += x[j * N + n] * x[j * N + n] } }
    for n in 0..<N { norms[n] = norms[n].squareRoot() }
    for j in 0..<rows { for n in 0..<N { x[j * N + n] /= max(norms[n], 1e-12) } }
    return norms
}

extension VQBottleneck {
    /// `kind = "vq-vae"`.
    public static let kind = QuantizerKind(
        name: "vq-vae", summary: "VQ-VAE on the reference backbone: nearest-code VQ, EMA codebook, k-means init, dead-code restarts",
        labelKeys: ["codebook_size"], options: Options.self,
        validate: { latentDim, o in
            if let d = o.codebookDim, d > latentDim { throw ConfigError(key: "codebook_dim", "must not exceed latent_dim (\(latentDim))") }
        },
        make: { o, d, ps, seed in VQBottleneck(latentDim: d, options: o, params: ps, seed: seed) })
}
