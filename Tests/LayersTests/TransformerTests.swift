import XCTest
import Backbones
@testable import Kernels
@testable import Layers

/// The 1-D tokenizer's engine pieces: forward against the Double references (the attention's a naive
/// loop, `MultiHeadAttention.naiveHeads`), every backward against central finite differences.
final class TransformerTests: XCTestCase {
    func testLayerNormGradients() {
        let ps = ParameterSet(seed: 1)
        let l = LayerNorm(6, params: ps, name: "ln")
        ps.finalize()
        // Non-trivial affine parameters, so dγ and dβ are exercised away from 1 and 0.
        var rng = SplitMix64(seed: 5)
        for i in 0..<ps.count { ps.values[i] = rng.uniform(-1.5, 1.5) }
        GradCheck.check(l, params: ps, inputShape: [2, 5, 6], seed: 11)
    }

    func testAttentionMatchesTheNaiveLoopAndItsGradients() {
        for (B, T, C, H) in [(2, 5, 8, 2), (1, 7, 6, 3), (3, 4, 4, 1)] {
            let ps = ParameterSet(seed: UInt64(T))
            let a = MultiHeadAttention(features: C, heads: H, params: ps, name: "attn")
            GradCheck.check(a, params: ps, inputShape: [B, T, C], seed: UInt64(40 + C))
        }
    }

    /// The attention weights are a probability distribution per query, and a query that matches one key
    /// far better than the rest attends to it.
    func testAttentionRowsAreDistributions() {
        let ps = ParameterSet(seed: 3)
        let a = MultiHeadAttention(features: 4, heads: 2, params: ps, name: "attn")
        ps.finalize()
        var rng = SplitMix64(seed: 2)
        _ = a.forward(Tensor(shape: [2, 6, 4], values: (0..<48).map { _ in rng.uniform(-1, 1) }))
        let x = Tensor(shape: [2, 6, 4], values: (0..<48).map { _ in rng.uniform(-1, 1) })
        let y = a.forward(x)
        XCTAssertEqual(y.shape, [2, 6, 4])
        // Rebuild P from the naive loop's softmax: each row sums to 1 (checked through a V of ones).
        let q = a.qkv.forward(x).values.map(Double.init)
        var ones = q
        for b in 0..<2 { for t in 0..<6 { for i in 0..<4 { ones[(b * 6 + t) * 12 + 8 + i] = 1 } } }
        for v in MultiHeadAttention.naiveHeads(ones, B: 2, T: 6, C: 4, H: 2) { XCTAssertEqual(v, 1, accuracy: 1e-12) }
    }

    func testTransformerBlockGradients() {
        let ps = ParameterSet(seed: 8)
        let blk = TransformerBlock(features: 8, heads: 2, mlpRatio: 2, params: ps, name: "blocks.0")
        GradCheck.check(blk, params: ps, inputShape: [2, 5, 8], seed: 21)
        XCTAssertEqual(ps.entries.map(\.name), ["blocks.0.norm1.weight", "blocks.0.norm1.bias", "blocks.0.attn.qkv.weight", "blocks.0.attn.qkv.bias",
                                                "blocks.0.attn.proj.weight", "blocks.0.attn.proj.bias", "blocks.0.norm2.weight", "blocks.0.norm2.bias",
                                                "blocks.0.mlp.fc1.weight", "blocks.0.mlp.fc1.bias", "blocks.0.mlp.fc2.weight", "blocks.0.mlp.fc2.bias"])
    }

    func testPositionEmbeddingGradients() {
        let ps = ParameterSet(seed: 2)
        GradCheck.check(PositionEmbedding(length: 5, features: 3, params: ps, name: "pos"), params: ps, inputShape: [4, 5, 3])
    }

    func testPatchifyAndUnpatchifyAreInversePermutations() {
        let ps = ParameterSet(seed: 0)
        GradCheck.check(Patchify(patch: 2), params: ps, inputShape: [3, 2, 4, 6])
        GradCheck.check(Unpatchify(patch: 2, channels: 3, height: 4, width: 6), params: ps, inputShape: [2, 6, 12])
        var rng = SplitMix64(seed: 1)
        let x = Tensor(shape: [3, 2, 8, 4], values: (0..<192).map { _ in rng.uniform(-1, 1) })
        let p = Patchify(patch: 4), u = Unpatchify(patch: 4, channels: 3, height: 8, width: 4)
        let tokens = p.forward(x)
        XCTAssertEqual(tokens.shape, [2, 2, 48])
        XCTAssertEqual(u.forward(tokens).values, x.values)
        // Token 1 of image 0 is the lower 4×4 patch: its first feature is channel 0 at (4, 0).
        XCTAssertEqual(tokens.data[48], x.data[(0 * 2 + 0) * 32 + 4 * 4 + 0])
    }

    /// The 1-D backbone end to end: encoder x [C, B, H, W] → z [D, B, 1, K] and decoder back, forward
    /// against the composed Double references and every parameter gradient (and the decoder's input
    /// gradient) against finite differences.
    func testViT1DEncoderAndDecoderGradients() {
        let c = ViT1DConfig(channels: 2, height: 4, width: 6, patch: 2, dim: 8, depth: 1, heads: 2, tokens: 3, latent: 5)
        let pe = ParameterSet(seed: 31)
        let enc = ViT1DEncoder(config: c, params: pe)
        GradCheck.check(enc, params: pe, inputShape: [2, 2, 4, 6], seed: 3, checkInput: false)
        let pd = ParameterSet(seed: 32)
        let dec = ViT1DDecoder(config: c, params: pd)
        GradCheck.check(dec, params: pd, inputShape: [5, 2, 1, 3], seed: 4)
        XCTAssertEqual(c.latentSize(height: 4, width: 6).1, 3)
    }
}

/// The pieces of an autoregressive prior (the AR-probing issue): causal attention and softmax cross-entropy.
final class AutoregressiveTests: XCTestCase {
    func testCausalAttentionMatchesTheNaiveLoopAndItsGradients() {
        for (B, T, C, H) in [(2, 5, 8, 2), (1, 7, 6, 3)] {
            let ps = ParameterSet(seed: UInt64(T + 100))
            let a = MultiHeadAttention(features: C, heads: H, causal: true, params: ps, name: "attn")
            GradCheck.check(a, params: ps, inputShape: [B, T, C], seed: UInt64(60 + C))
        }
        let ps = ParameterSet(seed: 4)
        let blk = TransformerBlock(features: 8, heads: 2, mlpRatio: 2, causal: true, params: ps, name: "blocks.0")
        GradCheck.check(blk, params: ps, inputShape: [2, 6, 8], seed: 23)
    }

    /// Changing position t's input changes no output before t (and does change outputs from t on).
    func testTheMaskLeaksNothing() {
        let ps = ParameterSet(seed: 9)
        let blk = TransformerBlock(features: 8, heads: 2, mlpRatio: 2, causal: true, params: ps, name: "b")
        ps.finalize()
        var rng = SplitMix64(seed: 1)
        let T = 7, C = 8
        let base = (0..<(T * C)).map { _ in rng.uniform(-1, 1) }
        let y0 = blk.forward(Tensor(shape: [1, T, C], values: base)).values
        for t in 0..<T {
            var x = base
            for i in 0..<C { x[t * C + i] += 0.5 }
            let y = blk.forward(Tensor(shape: [1, T, C], values: x)).values
            for u in 0..<t { for i in 0..<C { XCTAssertEqual(y[u * C + i], y0[u * C + i], "position \(u) saw position \(t)") } }
            XCTAssertNotEqual(Array(y[(t * C)..<((t + 1) * C)]), Array(y0[(t * C)..<((t + 1) * C)]))
        }
    }

    func testCrossEntropyMatchesTheReferenceAndItsGradient() {
        var rng = SplitMix64(seed: 3)
        let N = 5, V = 7
        let z = (0..<(N * V)).map { _ in rng.uniform(-3, 3) }
        let t = (0..<N).map { _ in Int(rng.next() % UInt64(V)) }
        let ce = SoftmaxCrossEntropy()
        let loss = ce.forward(Tensor(shape: [N, V], values: z), targets: t)
        let zD = z.map(Double.init)
        XCTAssertEqual(loss, SoftmaxCrossEntropy.naiveLoss(zD, rows: N, classes: V, targets: t), accuracy: 1e-6)
        let g = ce.backward().values.map(Double.init)
        let num = GradCheck.numeric({ SoftmaxCrossEntropy.naiveLoss($0, rows: N, classes: V, targets: t) }, at: zD)
        XCTAssertLessThanOrEqual(GradCheck.relativeError(g, num), 1e-4)
    }

    /// All-zero logits (an untrained head) pay exactly log2 V bits per word; a confident correct head pays ~0.
    func testUntrainedLogitsPayLog2VAndConfidentOnesNothing() {
        let ce = SoftmaxCrossEntropy()
        for V in [2, 16, 1000] {
            let bits = ce.forward(Tensor(shape: [3, V], values: [Float](repeating: 0, count: 3 * V)), targets: [0, V - 1, V / 2]) / log(2)
            XCTAssertEqual(bits, log2(Double(V)), accuracy: 1e-9)
        }
        var z = [Float](repeating: 0, count: 2 * 8); z[3] = 40; z[8 + 5] = 40
        XCTAssertLessThan(ce.forward(Tensor(shape: [2, 8], values: z), targets: [3, 5]) / log(2), 1e-12)
    }
}
