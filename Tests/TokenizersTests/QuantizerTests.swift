import XCTest
import Foundation
import Kernels
import Layers
@testable import Tokenizers
@testable import Quantizers
import Settings
import Training

final class QuantizerTests: XCTestCase {
    func tensor(_ shape: [Int], _ values: [Float]) -> Tensor { Tensor(shape: shape, values: values) }

    // MARK: FSQ

    func testFSQIndicesCodesIndicesIsIdentityForEveryPreset() {
        for (size, levels) in FiniteScalarQuantizer.presets.sorted(by: { $0.key < $1.key }) {
            let q = FiniteScalarQuantizer(levels: levels, latentDim: levels.count, params: ParameterSet(seed: 0))
            XCTAssertEqual(q.wordRange, levels.reduce(1, *))
            XCTAssertLessThanOrEqual(abs(log2(Double(q.wordRange)) - log2(Double(size))), 0.1, "\(levels)")
            for index in 0..<q.wordRange {
                let c = q.code(of: index)
                XCTAssertTrue(c.allSatisfy { $0 >= -1 && $0 <= 1 })
                XCTAssertEqual(q.index(of: c), index)
            }
            // All codes distinct.
            XCTAssertEqual(Set((0..<q.wordRange).map { q.code(of: $0) }).count, q.wordRange)
        }
    }

    func testFSQBoundedValuesStayInsideTheGrid() {
        let levels = [8, 5, 3, 2]
        let q = FiniteScalarQuantizer(levels: levels, latentDim: 4, params: ParameterSet(seed: 0))
        var rng = Kernels.SplitMix64(seed: 1)
        let N = 2000
        let z = Tensor(shape: [4, N, 1, 1])
        for i in 0..<z.count { z.data[i] = 20 * rng.uniform(-1, 1) }   // far outside ±1 too
        for (n, w) in q.forward(z, .inference).words.enumerated() {
            XCTAssertLessThan(Int(w), q.wordRange)
            for i in 0..<4 {
                let level = q.level(z.data[i * N + n], i)
                XCTAssertGreaterThanOrEqual(level, -Float(levels[i] / 2))
                XCTAssertLessThanOrEqual(level, Float((levels[i] + 1) / 2 - 1))
            }
        }
        // Every level of every channel is reached.
        for i in 0..<4 { XCTAssertEqual(Set((0..<N).map { q.level(z.data[i * N + $0], i) }).count, levels[i]) }
    }

    /// A few vectors worked by hand with the paper's formula, levels [8, 5]:
    ///   L = 8: half = 3.5·0.999 = 3.4965, offset 0.5, shift = tan(0.5/3.4965) = 0.14399
    ///   L = 5: half = 2·0.999 = 1.998, offset 0, shift 0
    func testFSQMatchesTheFormulaByHand() {
        let q = FiniteScalarQuantizer(levels: [8, 5], latentDim: 2, params: ParameterSet(seed: 0))
        // z = (0, 0):  tanh(0.14399)·3.4965 − 0.5 = 0.5 − 0.5 = 0 → 0;  tanh(0)·1.998 = 0 → 0.
        //   digits (0+4, 0+2) = (4, 2) → index 4 + 2·8 = 20; code (0/4, 0/2) = (0, 0)
        // z = (1, 1):  tanh(1.14399)·3.4965 − 0.5 = 0.8155·3.4965 − 0.5 = 2.351 → 2;
        //              tanh(1)·1.998 = 1.5216 → 2.   digits (6, 4) → 6 + 32 = 38; code (0.5, 1)
        // z = (−3, −0.2): tanh(−2.856)·3.4965 − 0.5 = −3.4735 − 0.5 = −3.97 → −4;
        //              tanh(−0.2)·1.998 = −0.3948 → 0.  digits (0, 2) → 16; code (−1, 0)
        // z = (0.3, −0.6): tanh(0.44399)·3.4965 − 0.5 = 0.4170·3.4965 − 0.5 = 0.958 → 1;
        //              tanh(−0.6)·1.998 = −1.0777 → −1.  digits (5, 1) → 13; code (0.25, −0.5)
        let z = tensor([2, 4, 1, 1], [0, 1, -3, 0.3, /* channel 1: */ 0, 1, -0.2, -0.6])
        let r = q.forward(z, .inference), out = r.zq
        XCTAssertEqual(r.words, [20, 38, 16, 13])
        XCTAssertEqual(out.values, [0, 0.5, -1, 0.25, /**/ 0, 1, 0, -0.5])
        XCTAssertEqual(q.shift[0], tan(0.5 / 3.4965), accuracy: 1e-7)
    }

    func testFSQStraightThroughGradientMatchesBoundDerivative() {
        // d code / dz = half·(1 − tanh²(z + shift)) / ⌊L/2⌋, checked by finite differences of the
        // (unrounded) normalised bound in Double.
        let q = FiniteScalarQuantizer(levels: [8, 5], latentDim: 2, params: ParameterSet(seed: 0))
        let z = tensor([2, 3, 1, 1], [0.1, -0.7, 1.3, 0.4, -1.1, 2.0])
        _ = q.forward(z, .training(step: 1))
        let g = q.backward(Tensor(shape: [2, 3, 1, 1], repeating: 1)).values
        for i in 0..<2 { for n in 0..<3 {
            let x = Double(z.data[i * 3 + n]), h = 1e-6
            func b(_ v: Double) -> Double { (tanh(v + Double(q.shift[i])) * Double(q.half[i]) - Double(q.offset[i])) / Double(q.halfWidth[i]) }
            XCTAssertEqual(Double(g[i * 3 + n]), (b(x + h) - b(x - h)) / (2 * h), accuracy: 1e-4)
        } }
    }

    // MARK: LFQ

    func testLFQRoundTripAndBits() {
        let q = LookupFreeQuantizer(bits: 3, latentDim: 3, params: ParameterSet(seed: 0))
        // columns: (+,+,+) → 7, (−,−,−) → 0, (+,−,+) → 5
        let z = tensor([3, 3, 1, 1], [0.5, -1, 2, /**/ 0.1, -0.3, -4, /**/ 3, -2, 0.01])
        let r = q.forward(z, .inference), out = r.zq
        XCTAssertEqual(r.words, [7, 0, 5])
        XCTAssertEqual(q.dequantize(r.words, shape: [3, 3, 1, 1]).values, out.values)
        for w in 0..<8 { XCTAssertEqual(q.dequantize([UInt32(w)], shape: [3, 1, 1, 1]).values.enumerated().reduce(0) { $0 + ($1.element > 0 ? 1 << $1.offset : 0) }, w) }
    }

    /// The entropy terms and their gradient over several chunks of rows (N·K above 2^22: 2^12 codes,
    /// 1100 vectors, chunks of 1024 rows) equal a naive one-pass computation in Double.
    func testLFQEntropyAcrossChunksEqualsNaive() {
        let d = 12, N = 1100, K = 1 << d
        let q = LookupFreeQuantizer(bits: d, latentDim: d, params: ParameterSet(seed: 0))
        q.temperature = 0.7; q.diversity = 0.6
        XCTAssertGreaterThan(N, (1 << 22) / K, "must span more than one chunk")
        var rng = Kernels.SplitMix64(seed: 8)
        let u = (0..<(d * N)).map { _ in rng.uniform(-1, 1) }
        let (perSample, batch, grad) = u.withUnsafeBufferPointer { q.entropyTerms($0.baseAddress!, count: N) }
        // Naive: p_{n,k} = softmax_k((2/τ) u_n·c_k) over all K codes at once, in Double.
        let scale = 2 / Double(q.temperature), γ = Double(q.diversity)
        var probs = [Double](repeating: 0, count: N * K), mean = [Double](repeating: 0, count: K)
        var h = [Double](repeating: 0, count: N)
        for n in 0..<N {
            var l = [Double](repeating: 0, count: K)
            for k in 0..<K { var s = 0.0; for i in 0..<d { s += Double(u[i * N + n]) * ((k >> i) & 1 == 1 ? 1 : -1) }; l[k] = scale * s }
            let m = l.max()!; var z = 0.0
            for k in 0..<K { l[k] = exp(l[k] - m); z += l[k] }
            for k in 0..<K { let p = l[k] / z; probs[n * K + k] = p; mean[k] += p / Double(N); if p > 0 { h[n] -= p * log(p) } }
        }
        let naivePerSample = h.reduce(0, +) / Double(N)
        let logMean = mean.map { $0 > 0 ? log($0) : -80.0 }
        var naiveBatch = 0.0
        for k in 0..<K where mean[k] > 0 { naiveBatch -= mean[k] * logMean[k] }
        XCTAssertEqual(perSample, naivePerSample, accuracy: 1e-4 * max(1, naivePerSample))
        XCTAssertEqual(batch, naiveBatch, accuracy: 1e-4 * max(1, naiveBatch))
        var worst = 0.0
        for n in stride(from: 0, to: N, by: 37) {    // the gradient on a spread of rows, every chunk included
            var cross = 0.0
            for k in 0..<K { cross += probs[n * K + k] * logMean[k] }
            for i in 0..<d {
                var g = 0.0
                for k in 0..<K {
                    let p = probs[n * K + k]
                    let dl = p > 0 ? (-p * (log(p) + h[n]) + γ * p * (logMean[k] - cross)) / Double(N) : 0
                    g += scale * dl * ((k >> i) & 1 == 1 ? 1 : -1)
                }
                worst = max(worst, abs(Double(grad[i * N + n]) - g))
            }
        }
        XCTAssertLessThan(worst, 1e-6, "largest gradient difference \(worst)")
    }

    func testLFQEntropyGradientMatchesFiniteDifferences() {
        let q = LookupFreeQuantizer(bits: 3, latentDim: 3, params: ParameterSet(seed: 0))
        q.temperature = 0.5; q.diversity = 0.7
        var rng = Kernels.SplitMix64(seed: 3)
        let N = 5
        var u = (0..<(3 * N)).map { _ in rng.uniform(-1, 1) }
        let (_, _, grad) = u.withUnsafeBufferPointer { q.entropyTerms($0.baseAddress!, count: N) }
        func E(_ v: [Float]) -> Double {
            let (a, b, _) = v.withUnsafeBufferPointer { q.entropyTerms($0.baseAddress!, count: N) }
            return a - 0.7 * b
        }
        for i in 0..<u.count {
            let h: Float = 1e-3
            let x = u[i]
            u[i] = x + h; let up = E(u)
            u[i] = x - h; let dn = E(u)
            u[i] = x
            XCTAssertEqual(Double(grad[i]), (up - dn) / (2 * Double(h)), accuracy: 2e-3 * max(1, abs((up - dn) / (2 * Double(h)))), "u[\(i)]")
        }
    }

    // MARK: RVQ

    func testRVQRoundTripAndErrorFallsWithStages() {
        let D = 4, N = 600
        var rng = Kernels.SplitMix64(seed: 8)
        let z = Tensor(shape: [D, N, 1, 1])
        for i in 0..<z.count { z.data[i] = rng.uniform(-1, 1) }
        let ps = ParameterSet(seed: 2)
        var o = ResidualVectorQuantizer.Options.defaults; o.stages = 4; o.codebookSize = 16
        let q = ResidualVectorQuantizer(options: o, latentDim: D, params: ps, seed: 1)
        ps.finalize()
        let r = q.forward(z, .training(step: 1)), out = r.zq   // k-means initialises every stage on this batch
        XCTAssertEqual(r.words.count, N * 4)
        XCTAssertEqual(q.dequantize(r.words, shape: [D, N, 1, 1]).values, out.values)
        var errors: [Double] = []
        for n in 1...4 {
            let partial = q.dequantize(r.words, shape: [D, N, 1, 1], using: n)
            errors.append(zip(partial.values, z.values).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(D * N))
        }
        for i in 1..<4 { XCTAssertLessThan(errors[i], errors[i - 1] * 0.9, "\(errors)") }
        XCTAssertEqual(q.log2VocabularySize, 16)
    }
}
