import XCTest
import Foundation
import Kernels
import Layers
@testable import Quantizers

/// SimVQ and BSQ: codes ↔ indices round trips, the fast search against its reference, and every
/// backward against central finite differences in Double (indices held fixed, as the straight-through
/// estimator defines the gradient).
final class SimVQBSQTests: XCTestCase {
    func simvq(codebookSize: Int, commitment: Float? = nil) -> SimVQ.Options {
        var o = SimVQ.Options.defaults; o.codebookSize = codebookSize; if let c = commitment { o.commitment = c }; return o
    }
    func bsq(bits: Int, diversity: Float? = nil, temperature: Float) -> BinarySphericalQuantizer.Options {
        var o = BinarySphericalQuantizer.Options.defaults; o.signBits.bits = bits; o.signBits.temperature = temperature
        if let d = diversity { o.signBits.diversity = d }
        return o
    }

    func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
        var rng = Kernels.SplitMix64(seed: seed)
        return Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in rng.uniform(-scale, scale) })
    }

    // MARK: SimVQ

    func testSimVQSearchEqualsBruteForceAndRoundTrips() {
        let ps = ParameterSet(seed: 2)
        let q = SimVQ(latentDim: 6, options: simvq(codebookSize: 300), params: ps, seed: 5)
        ps.finalize()
        let z = randomTensor([6, 4, 5, 5], seed: 9)                // N = 100
        let r = q.forward(z, .training(step: 1)), out = r.zq
        let E = q.codes!
        XCTAssertEqual(q.indices, SimVQ.nearestNaive(z.values, count: 100, codes: E.values, size: 300, dimension: 6))
        XCTAssertEqual(r.words, q.indices.map { UInt32($0) })
        // An inference pass gives the same words and leaves the training state alone.
        let saved = q.indices
        XCTAssertEqual(q.forward(randomTensor([6, 1, 2, 2], seed: 1), .inference).words.count, 4)
        XCTAssertEqual(q.indices, saved)
        // indices → codes → indices
        let back = q.dequantize(r.words, shape: z.shape)
        XCTAssertEqual(back.values, out.values)
        XCTAssertEqual(q.forward(back, .inference).words, r.words)
        // Every code is C·Wᵀ + b of the frozen codebook.
        let W = ps.entries.first { $0.name == "quantizer.embedding_proj.weight" }!, b = ps.entries.first { $0.name == "quantizer.embedding_proj.bias" }!
        for k in [0, 17, 299] { for i in 0..<6 {
            var s = Double(ps.values.data[b.offset + i])
            for j in 0..<6 { s += Double(ps.values.data[W.offset + i * 6 + j]) * Double(q.frozen.data[k * 6 + j]) }
            XCTAssertEqual(Double(E.data[k * 6 + i]), s, accuracy: 1e-5)
        } }
    }

    func testSimVQGradientsMatchFiniteDifferences() {
        let D = 3, K = 7, N = 6
        let ps = ParameterSet(seed: 4)
        let q = SimVQ(latentDim: D, options: simvq(codebookSize: K, commitment: 0.6), params: ps, seed: 1)
        ps.finalize()
        let z = randomTensor([D, 2, 1, 3], seed: 3), G = randomTensor([D, 2, 1, 3], seed: 8)
        ps.zeroGrads()
        _ = q.forward(z, .training(step: 1))
        let idx = q.indices, fixedQ = q.q!.values.map(Double.init)
        let dz = q.backward(G).values
        let W = ps.entries.first { $0.name == "quantizer.embedding_proj.weight" }!, b = ps.entries.first { $0.name == "quantizer.embedding_proj.bias" }!
        let C = q.frozen.values.map(Double.init)
        // S(z, W, b) = <G, u> (straight-through) + β mean((u − sg q)²) + mean((q(W, b) − sg u)²), indices fixed.
        func S(_ zv: [Double], _ wv: [Double], _ bv: [Double], encoder: Bool) -> Double {
            var s = 0.0, commit = 0.0, cb = 0.0
            for j in 0..<D { for n in 0..<N {
                let k = Int(idx[n])
                var e = bv[j]
                for m in 0..<D { e += wv[j * D + m] * C[k * D + m] }
                s += Double(G.data[j * N + n]) * zv[j * N + n]
                commit += pow(zv[j * N + n] - fixedQ[j * N + n], 2)
                cb += pow(e - (encoder ? 0 : zv[j * N + n]), 2)
            } }
            return encoder ? s + 0.6 * commit / Double(D * N) : cb / Double(D * N)
        }
        let zv = z.values.map(Double.init)
        let wv = (0..<(D * D)).map { Double(ps.values.data[W.offset + $0]) }, bv = (0..<D).map { Double(ps.values.data[b.offset + $0]) }
        let h = 1e-5
        for i in 0..<zv.count {
            var a = zv, c = zv; a[i] += h; c[i] -= h
            let fd = (S(a, wv, bv, encoder: true) - S(c, wv, bv, encoder: true)) / (2 * h)
            XCTAssertEqual(Double(dz[i]), fd, accuracy: 1e-4 * max(1, abs(fd)), "dz[\(i)]")
        }
        for i in 0..<wv.count {
            var a = wv, c = wv; a[i] += h; c[i] -= h
            let fd = (S(zv, a, bv, encoder: false) - S(zv, c, bv, encoder: false)) / (2 * h)
            XCTAssertEqual(Double(ps.grad(W.offset)[i]), fd, accuracy: 1e-4 * max(1, abs(fd)), "dW[\(i)]")
        }
        for i in 0..<bv.count {
            var a = bv, c = bv; a[i] += h; c[i] -= h
            let fd = (S(zv, wv, a, encoder: false) - S(zv, wv, c, encoder: false)) / (2 * h)
            XCTAssertEqual(Double(ps.grad(b.offset)[i]), fd, accuracy: 1e-4 * max(1, abs(fd)), "db[\(i)]")
        }
    }

    // MARK: BSQ

    func testBSQCodesLieOnTheSphereAndRoundTrip() {
        let q = BinarySphericalQuantizer(options: bsq(bits: 4, temperature: 1), latentDim: 4, params: ParameterSet(seed: 0))
        let z = Tensor(shape: [4, 3, 1, 1], values: [0.5, -1, 2, /**/ 0.1, -0.3, -4, /**/ -3, -2, 0.01, /**/ 7, -0.2, 0.3])
        let r = q.forward(z, .inference), out = r.zq
        // columns: (+,+,−,+) → 1+2+8 = 11, (−,−,−,−) → 0, (+,−,+,+) → 1+4+8 = 13
        XCTAssertEqual(r.words, [11, 0, 13])
        for n in 0..<3 {
            XCTAssertEqual((0..<4).reduce(Float(0)) { $0 + out.data[$1 * 3 + n] * out.data[$1 * 3 + n] }, 1, accuracy: 1e-6)
            for i in 0..<4 { XCTAssertEqual(abs(out.data[i * 3 + n]), 0.5, accuracy: 1e-7) }
        }
        XCTAssertEqual(q.dequantize(r.words, shape: [4, 3, 1, 1]).values, out.values)
        for w in 0..<16 {
            let c = q.dequantize([UInt32(w)], shape: [4, 1, 1, 1])
            XCTAssertEqual(q.forward(c, .inference).words, [UInt32(w)])
        }
    }

    func testBSQEntropyGradientMatchesFiniteDifferences() {
        let q = BinarySphericalQuantizer(options: bsq(bits: 3, diversity: 0.7, temperature: 0.5), latentDim: 3, params: ParameterSet(seed: 0))
        var rng = Kernels.SplitMix64(seed: 3)
        let N = 5
        var u = (0..<(3 * N)).map { _ in rng.uniform(-1, 1) }
        let (_, _, grad) = u.withUnsafeBufferPointer { q.entropyTerms($0.baseAddress!, count: N) }
        func E(_ v: [Float]) -> Double {
            let (a, b, _) = v.withUnsafeBufferPointer { q.entropyTerms($0.baseAddress!, count: N) }
            return a - 0.7 * b
        }
        for i in 0..<u.count {
            let h: Float = 1e-3, x = u[i]
            u[i] = x + h; let up = E(u)
            u[i] = x - h; let dn = E(u)
            u[i] = x
            let fd = (up - dn) / (2 * Double(h))
            XCTAssertEqual(Double(grad[i]), fd, accuracy: 1e-3 * max(1, abs(fd)), "u[\(i)]")
        }
        // The per-sample entropy by hand for one token of one bit at u = 0: p = 1/2, H = log 2.
        let one = BinarySphericalQuantizer(options: bsq(bits: 1, temperature: 1), latentDim: 1, params: ParameterSet(seed: 0))
        let (h0, c0, _) = [Float(0)].withUnsafeBufferPointer { one.entropyTerms($0.baseAddress!, count: 1) }
        XCTAssertEqual(h0, log(2), accuracy: 1e-12)
        XCTAssertEqual(c0, log(2), accuracy: 1e-12)
    }

    /// The whole input gradient, through the projection, the sphere normalisation, straight-through,
    /// commitment and entropy, against finite differences of the surrogate in Double.
    func testBSQInputGradientMatchesFiniteDifferences() {
        let d = 3, D = 4, N = 6
        var o = bsq(bits: d, diversity: 0.8, temperature: 0.6); o.signBits.entropyWeight = 0.3; o.signBits.commitment = 0.7
        let ps = ParameterSet(seed: 21)
        let q = BinarySphericalQuantizer(options: o, latentDim: D, params: ps)
        ps.finalize()
        let z = randomTensor([D, 2, 1, 3], seed: 13), G = randomTensor([D, 2, 1, 3], seed: 14)
        ps.zeroGrads()
        _ = q.forward(z, .training(step: 1))
        let fixedQ = q.q!.values.map(Double.init)
        let dz = q.backward(G).values
        let win = ps.entries.first { $0.name == "quantizer.project_in.weight" }!, bin = ps.entries.first { $0.name == "quantizer.project_in.bias" }!
        let wout = ps.entries.first { $0.name == "quantizer.project_out.weight" }!
        func p(_ e: ParameterEntry, _ i: Int) -> Double { Double(ps.values.data[e.offset + i]) }
        func S(_ zv: [Double]) -> Double {
            var u = [Double](repeating: 0, count: d * N)
            for j in 0..<d { for n in 0..<N { u[j * N + n] = p(bin, j) + (0..<D).reduce(0.0) { $0 + p(win, j * D + $1) * zv[$1 * N + n] } } }
            for n in 0..<N { let s = (0..<d).reduce(0.0) { $0 + u[$1 * N + n] * u[$1 * N + n] }.squareRoot(); for j in 0..<d { u[j * N + n] /= s } }
            var loss = 0.0, commit = 0.0
            for i in 0..<D { for n in 0..<N { loss += Double(G.data[i * N + n]) * (0..<d).reduce(0.0) { $0 + p(wout, i * d + $1) * u[$1 * N + n] } } }
            for i in 0..<(d * N) { commit += pow(u[i] - fixedQ[i], 2) }
            let a = 4 / (0.6 * Double(d).squareRoot())
            func hb(_ x: Double) -> Double { -x * log(x) - (1 - x) * log(1 - x) }
            var sample = 0.0, mean = [Double](repeating: 0, count: d)
            for j in 0..<d { for n in 0..<N { let pr = 1 / (1 + exp(-a * u[j * N + n])); sample += hb(pr); mean[j] += pr / Double(N) } }
            let entropy = sample / Double(N) - 0.8 * mean.reduce(0) { $0 + hb($1) }
            return loss + 0.7 * commit / Double(d * N) + 0.3 * entropy
        }
        let zv = z.values.map(Double.init), h = 1e-5
        for i in 0..<zv.count {
            var a = zv, c = zv; a[i] += h; c[i] -= h
            let fd = (S(a) - S(c)) / (2 * h)
            XCTAssertEqual(Double(dz[i]), fd, accuracy: 2e-3 * max(1, abs(fd)), "dz[\(i)]")
        }
    }

    // MARK: LFQ stabilizers

    /// LFQ with its stabilizers on: the non-affine GroupNorm before the sign and the boosted entropy
    /// weight. The whole input gradient against finite differences of the surrogate in Double
    /// (entropy over all 2^d codes, by brute force).
    func testLFQWithStabilizersInputGradientMatchesFiniteDifferences() {
        let d = 3, N = 6
        var o = LookupFreeQuantizer.Options.defaults
        o.signBits.bits = d; o.signBits.entropyWeight = 0.2; o.signBits.diversity = 0.8; o.signBits.commitment = 0.5; o.signBits.temperature = 0.7
        o.signBits.norm = true; o.signBits.entropyBoost = 3; o.signBits.entropyBoostSteps = 10
        let ps = ParameterSet(seed: 2)
        let q = LookupFreeQuantizer(options: o, latentDim: d, params: ps)
        ps.finalize()
        XCTAssertTrue(ps.entries.isEmpty)                       // the norm is not affine
        let z = randomTensor([d, 2, 1, 3], seed: 5, scale: 2), G = randomTensor([d, 2, 1, 3], seed: 6)
        _ = q.forward(z, .training(step: 4))                    // the step reaches the schedule through the pass
        XCTAssertEqual(q.scheduledEntropyWeight, 0.56, accuracy: 1e-6)   // weight 0.2 · (1 + 3 · 0.6) = 0.56
        let fixedQ = q.q!.values.map(Double.init)
        let dz = q.backward(G).values
        func S(_ zv: [Double]) -> Double {
            // u = GroupNorm(1 group, no affine) per sample over its d × 3 values (eps 1e-5)
            var u = zv
            for b in 0..<2 {
                var vals: [Double] = []
                for j in 0..<d { for x in 0..<3 { vals.append(zv[(j * 2 + b) * 3 + x]) } }
                let m = vals.reduce(0, +) / Double(vals.count)
                let v = vals.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(vals.count)
                for j in 0..<d { for x in 0..<3 { u[(j * 2 + b) * 3 + x] = (zv[(j * 2 + b) * 3 + x] - m) / (v + 1e-5).squareRoot() } }
            }
            var loss = 0.0, commit = 0.0
            for i in 0..<(d * N) { loss += Double(G.data[i]) * u[i]; commit += pow(u[i] - fixedQ[i], 2) }
            // entropy over the 2^d codes c ∈ {±1}^d: p_n ∝ exp(2 u_n·c / τ)
            var sample = 0.0, mean = [Double](repeating: 0, count: 1 << d)
            for n in 0..<N {
                let logits = (0..<(1 << d)).map { k in (0..<d).reduce(0.0) { $0 + 2 * u[$1 * N + n] * ((k >> $1) & 1 == 1 ? 1 : -1) } / 0.7 }
                let mx = logits.max()!, e = logits.map { exp($0 - mx) }, Z = e.reduce(0, +)
                for k in 0..<(1 << d) { let p = e[k] / Z; sample -= p * log(p) / Double(N); mean[k] += p / Double(N) }
            }
            let batch = mean.reduce(0) { $0 - $1 * log($1) }
            return loss + 0.5 * commit / Double(d * N) + 0.56 * (sample - 0.8 * batch)
        }
        let zv = z.values.map(Double.init), h = 1e-5
        for i in 0..<zv.count {
            var a = zv, c = zv; a[i] += h; c[i] -= h
            let fd = (S(a) - S(c)) / (2 * h)
            XCTAssertEqual(Double(dz[i]), fd, accuracy: 2e-3 * max(1, abs(fd)), "dz[\(i)]")
        }
    }
}
