import Settings
import MetricCatalogue
import Foundation
import Kernels
import Layers

/// Finite scalar quantization (Mentzer et al. 2023, "FSQ: VQ-VAE made simple").
/// Each of d channels is bounded and rounded to one of L_i levels; the implicit codebook is the
/// grid Π L_i, with no codebook to learn or collapse.
///   bound(z) = tanh(z + shift)·half − offset,  half = (L−1)(1−ε)/2,  offset = 0.5 for even L
///   (else 0),  shift = tan(offset/half) (as in the paper's reference code; atanh would be
///   undefined for L = 2);   q = round(bound(z)) (straight-through);
///   code = q / ⌊L/2⌋ ∈ [−1, 1];   index = Σ_i (q_i + ⌊L_i/2⌋)·basis_i, basis = cumprod([1, L_0, …]).
/// z [D, N] is projected to d = len(levels) channels (1×1 conv) when D ≠ d, and back.
public final class FiniteScalarQuantizer: Quantizer {
    /// The paper's level choices by target codebook size.
    public static let presets: [Int: [Int]] = [
        256: [8, 6, 5], 1024: [8, 5, 5, 5], 4096: [7, 5, 5, 5, 5], 16384: [8, 8, 8, 6, 5], 65536: [8, 8, 8, 5, 5, 5],
    ]
    public static let epsilon: Float = 1e-3

    public let levels: [Int]
    public let latentDim: Int
    public let basis: [Int]
    let half: [Float], offset: [Float], shift: [Float], halfWidth: [Float]
    let projectIn: Conv2d?, projectOut: Conv2d?
    var pre: Tensor?          // [d, B, h, w] projected z (before bounding)
    var codes: Tensor?        // [d, B, h, w] normalised codes
    var dpre: Tensor?

    public var wordsPerToken: Int { 1 }
    public var wordRange: Int { levels.reduce(1, *) }
    var d: Int { levels.count }

    public init(levels: [Int], latentDim: Int, params: ParameterSet) {
        precondition(levels.allSatisfy { $0 >= 2 })
        self.levels = levels; self.latentDim = latentDim
        var b = [1]
        for l in levels.dropLast() { b.append(b.last! * l) }
        basis = b
        half = levels.map { Float($0 - 1) * (1 - Self.epsilon) / 2 }
        offset = levels.map { $0 % 2 == 0 ? 0.5 : 0 }
        shift = zip(offset, half).map { tan($0 / $1) }
        halfWidth = levels.map { Float($0 / 2) }
        if levels.count != latentDim {
            projectIn = Conv2d(latentDim, levels.count, kernel: 1, params: params, name: "quantizer.project_in")
            projectOut = Conv2d(levels.count, latentDim, kernel: 1, params: params, name: "quantizer.project_out")
        } else { projectIn = nil; projectOut = nil }
    }

    /// bounded value of channel i (before rounding)
    @inline(__always) func bound(_ x: Float, _ i: Int) -> Float { tanh(x + shift[i]) * half[i] - offset[i] }

    /// Rounded, unnormalised level of channel i: an integer in −⌊L/2⌋ … ⌈L/2⌉−1.
    /// (A non-finite input — a diverged model — maps to level 0 rather than trapping.)
    @inline(__always) func level(_ x: Float, _ i: Int) -> Float {
        let b = bound(x, i).rounded(.toNearestOrEven)
        return b.isFinite ? b : 0
    }

    public func forward(_ z: Tensor, _ pass: QuantizerPass) -> Quantized {
        let p = projectIn?.forward(z) ?? z
        let shape = [d] + Array(z.shape.dropFirst())
        let N = shape.dropFirst().reduce(1, *)
        let preT = pass.isTraining ? reusing(pre, shape: shape) : Tensor(shape: shape)
        preT.copy(from: p)
        let cT = pass.isTraining ? reusing(codes, shape: shape) : Tensor(shape: shape)
        if pass.isTraining { pre = preT; codes = cT }
        var words = [UInt32](repeating: 0, count: N)
        for i in 0..<d {
            for n in 0..<N {
                let q = level(preT.data[i * N + n], i)
                cT.data[i * N + n] = q / halfWidth[i]
                words[n] += UInt32((Int(q) + Int(halfWidth[i])) * basis[i])
            }
        }
        return Quantized(zq: projectOut?.forward(cT) ?? cT, words: words)
    }

    /// Straight-through: d code/d pre = bound'(pre)/⌊L/2⌋ = half·(1 − tanh²(pre + shift))/⌊L/2⌋.
    public func backward(_ dzq: Tensor) -> Tensor {
        guard let preT = pre else { preconditionFailure("FSQ.backward before forward") }
        let dc = projectOut?.backward(dzq) ?? dzq
        let g = reusing(dpre, shape: preT.shape); dpre = g
        let N = preT.count / d
        for i in 0..<d {
            for n in 0..<N {
                let t = tanh(preT.data[i * N + n] + shift[i])
                g.data[i * N + n] = dc.data[i * N + n] * half[i] * (1 - t * t) / halfWidth[i]
            }
        }
        return projectIn?.backward(g) ?? g
    }

    /// index → normalised code vector (the mixed-radix digits, centred and scaled).
    public func code(of index: Int) -> [Float] {
        (0..<d).map { i in Float((index / basis[i]) % levels[i]) / halfWidth[i] - 1 }
    }

    /// normalised code → index (inverse of `code(of:)`).
    public func index(of code: [Float]) -> Int {
        (0..<d).reduce(0) { $0 + Int((code[$1] * halfWidth[$1] + halfWidth[$1]).rounded()) * basis[$1] }
    }

    public func dequantize(_ words: [UInt32], shape: [Int]) -> Tensor {
        let N = shape.dropFirst().reduce(1, *)
        let cT = Tensor(shape: [d] + Array(shape.dropFirst()))
        for n in 0..<N {
            let c = code(of: Int(words[n]))
            for i in 0..<d { cT.data[i * N + n] = c[i] }
        }
        return projectOut?.forward(cT) ?? cT
    }
}

extension FiniteScalarQuantizer {
    /// The settings of `kind = "fsq"` besides the backbone's.
    public struct Options: Equatable, Sendable, DeclaredOptions {
        public var codebookSize = 0
        public var levels: [Int] = []  // empty: the paper's preset for codebookSize
        public static let unset = Options()
        private init() {}
        public static var options: [Option<Options>] {
            [
                .int("codebook_size", \.codebookSize, default: 1024, "target V: picks the paper's levels (256, 1024, 4096, 16384, 65536)",
                     check: { v in presets[v.intValue ?? 0] != nil ? nil : "must be one of \(presets.keys.sorted().map(String.init).joined(separator: ", ")) (or give levels)" }),
                .ints("levels", \.levels, default: [], "explicit levels, e.g. [8, 5, 5, 5] (overrides codebook_size; a list of lists sweeps)",
                      check: { v in (v.intsValue ?? [1]).allSatisfy { $0 >= 2 } ? nil : "levels must be integers ≥ 2" }),
            ]
        }

        /// The levels this run quantizes with.
        public var resolvedLevels: [Int] { levels.isEmpty ? FiniteScalarQuantizer.presets[codebookSize]! : levels }
    }

    public convenience init(options: Options, latentDim: Int, params: ParameterSet) {
        self.init(levels: options.resolvedLevels, latentDim: latentDim, params: params)
    }
}

extension FiniteScalarQuantizer {
    /// `kind = "fsq"`.
    public static let kind = QuantizerKind(
        name: "fsq", summary: "finite scalar quantization (Mentzer et al. 2023) on the reference backbone",
        labelKeys: ["codebook_size", "levels"], latent: 0, latentDoc: "latent channels D (0: one per level, no projection)",
        options: Options.self, quantizerDim: { $0.resolvedLevels.count },
        make: { o, d, ps, _ in FiniteScalarQuantizer(options: o, latentDim: d, params: ps) })
}
