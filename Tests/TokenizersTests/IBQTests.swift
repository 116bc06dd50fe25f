import XCTest
import Foundation
@testable import Quantizers
@testable import Tokenizers
import Kernels
import Layers
import Settings
import Datasets

/// IBQ, the quantizer added as one file plus one registry line: the argmax choice, codes → indices →
/// codes, and its whole backward (the straight-through softmax into every code and into u, commitment
/// and codebook losses) against central finite differences in Double.
final class IBQTests: XCTestCase {
    func make(D: Int, K: Int, commitment: Float = 0.25, seed: UInt64 = 1) -> (IndexBackpropagationQuantizer, ParameterSet) {
        var o = IndexBackpropagationQuantizer.Options.defaults; o.codebookSize = K; o.commitment = commitment
        let ps = ParameterSet(seed: seed)
        let q = IndexBackpropagationQuantizer(latentDim: D, options: o, params: ps)
        ps.finalize()
        var rng = Kernels.SplitMix64(seed: seed + 10)
        for i in 0..<(K * D) { q.codes[i] = rng.uniform(-1, 1) }   // codes far from the tiny init, so the softmax is not flat
        return (q, ps)
    }
    func random(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = Kernels.SplitMix64(seed: seed)
        return Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in rng.uniform(-1, 1) })
    }

    func testChoosesTheLargestLogitAndRoundTrips() {
        let (q, _) = make(D: 4, K: 9)
        let z = random([4, 2, 3, 1], seed: 3)   // N = 6
        let r = q.forward(z, .inference)
        for n in 0..<6 {
            let scores = (0..<9).map { k in (0..<4).reduce(Float(0)) { $0 + z.data[$1 * 6 + n] * q.codes[k * 4 + $1] } }
            XCTAssertEqual(Int(r.words[n]), scores.firstIndex(of: scores.max()!)!)
        }
        XCTAssertEqual(q.dequantize(r.words, shape: z.shape).values, r.zq.values)        // indices → codes
        XCTAssertEqual(q.forward(q.dequantize([5], shape: [4, 1, 1, 1]), .inference).words.count, 1)
        XCTAssertTrue(r.losses.isEmpty)
    }

    func testBackwardMatchesFiniteDifferences() {
        let D = 3, K = 5, N = 6, beta: Float = 0.7
        let (q, ps) = make(D: D, K: K, commitment: beta)
        let z = random([D, 2, 1, 3], seed: 4), G = random([D, 2, 1, 3], seed: 5)
        ps.zeroGrads()
        let r = q.forward(z, .training(step: 1))
        XCTAssertEqual(r.losses.map(\.metric.key), ["commit_loss", "codebook_loss"])
        XCTAssertTrue(r.losses.allSatisfy { $0.metric.isLossTerm })
        let dz = q.backward(G).values
        let dC = (0..<(K * D)).map { Double(ps.grad(0)[$0]) }
        // Constants of the base point: the hard choice, the softmax, q's value, u.
        let z0 = z.values.map(Double.init), C0 = (0..<(K * D)).map { Double(q.codes[$0]) }
        let hard = r.words.map(Int.init)
        func softmax(_ zv: [Double], _ cv: [Double]) -> [Double] {
            var p = [Double](repeating: 0, count: N * K)
            for n in 0..<N {
                let l = (0..<K).map { k in (0..<D).reduce(0.0) { $0 + zv[$1 * N + n] * cv[k * D + $1] } }
                let m = l.max()!, e = l.map { exp($0 - m) }, s = e.reduce(0, +)
                for k in 0..<K { p[n * K + k] = e[k] / s }
            }
            return p
        }
        let p0 = softmax(z0, C0)
        let qValue = (0..<(D * N)).map { i in C0[hard[i % N] * D + i / N] }
        // S(z, C) = <G, q̃> + β·mean((z − q0)²) + mean((z0 − q̃)²),  q̃_n = Σ_k (hard + p(z, C) − p0)_{n,k} c_k
        func S(_ zv: [Double], _ cv: [Double]) -> Double {
            let p = softmax(zv, cv)
            var s = 0.0, commit = 0.0, codebook = 0.0
            for j in 0..<D { for n in 0..<N {
                var qt = 0.0
                for k in 0..<K { qt += ((k == hard[n] ? 1 : 0) + p[n * K + k] - p0[n * K + k]) * cv[k * D + j] }
                s += Double(G.data[j * N + n]) * qt
                commit += pow(zv[j * N + n] - qValue[j * N + n], 2)
                codebook += pow(z0[j * N + n] - qt, 2)
            } }
            return s + Double(beta) * commit / Double(D * N) + codebook / Double(D * N)
        }
        let h = 1e-5
        for i in 0..<(D * N) {
            var a = z0, b = z0; a[i] += h; b[i] -= h
            XCTAssertEqual(Double(dz[i]), (S(a, C0) - S(b, C0)) / (2 * h), accuracy: 1e-4, "dz[\(i)]")
        }
        for i in 0..<(K * D) {
            var a = C0, b = C0; a[i] += h; b[i] -= h
            XCTAssertEqual(dC[i], (S(z0, a) - S(z0, b)) / (2 * h), accuracy: 1e-4, "dC[\(i)]")
        }
        // Every code gets a gradient, not only the chosen ones.
        XCTAssertTrue((0..<K).allSatisfy { k in (0..<D).contains { dC[k * D + $0] != 0 } })
    }

    /// Through the registry, as `kind = "ibq"` in an experiment file: builds, trains a step, round-trips.
    func testRegistryBuildsIt() throws {
        let t = try XCTUnwrap(try TokenizerRegistry.make(TokenizerConfig(kind: "ibq", values: ["hidden": .int(8), "residual": .int(4), "latent_dim": .int(4), "codebook_size": .int(32)]),
                                                         shape: ImageShape(channels: 1, height: 8, width: 8), seed: 2) as? TrainableTokenizer)
        var rng = Kernels.SplitMix64(seed: 1)
        let images = ImageBatch(count: 4, channels: 1, height: 8, width: 8, pixels: (0..<256).map { _ in UInt8(rng.int(below: 256)) })
        let m = try t.trainStep(images, indices: [0, 1, 2, 3], learningRate: 1e-3, gradClip: 1, step: 1)
        XCTAssertTrue(m.contains { $0.metric.key == "codebook_loss" })
        let tokens = t.encode(images)
        XCTAssertEqual(tokens.length, 4)
        XCTAssertEqual(t.decode(tokens).count, 4)
        XCTAssertEqual(t.log2VocabularySize, 5)
    }
}
