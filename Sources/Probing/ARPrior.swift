// The autoregressive prior of AR probing (GigaTok's "AR probing", a small LlamaGen-style model): what a
// generator pays for a tokenizer's tokens. A token of S words is S words in turn, so a sequence of L tokens
// is T = L·S words w_0 … w_{T−1}, each in 0..<V; word t is predicted from the words before it (the earlier
// tokens and the earlier words of its own token):
//   input  [BOS, w_0, …, w_{T−2}]  (BOS = V)  → TokenEmbedding (V+1)×C + PositionEmbedding T×C
//   → `layers` causal TransformerBlocks → LayerNorm → Linear(C, V) → logits [B, T, V] (the loss reads them as [B·T, V])
//   loss = softmax cross-entropy against [w_0, …, w_{T−1}], in nats per word (÷ ln 2: bits per word).
// Shapes: B sequences, T words each, C features, V values per word.
import Foundation
import Kernels
import Layers

public struct ARPriorConfig: Sendable, Equatable {
    public var vocabulary: Int          // V
    public var length: Int              // T = L·S words per sequence
    public var features: Int = 64       // C
    public var layers: Int = 2
    public var heads: Int = 4
    public var mlpRatio: Int = 4
    public init(vocabulary: Int, length: Int, features: Int = 64, layers: Int = 2, heads: Int = 4, mlpRatio: Int = 4) {
        self.vocabulary = vocabulary; self.length = length; self.features = features; self.layers = layers; self.heads = heads; self.mlpRatio = mlpRatio
    }
}

public final class ARPrior {
    public let config: ARPriorConfig
    public let params: ParameterSet
    let embedding: TokenEmbedding
    let position: PositionEmbedding
    let blocks: [TransformerBlock]
    let norm: LayerNorm
    let head: Linear
    let loss = SoftmaxCrossEntropy()
    let optimizer: Adam

    public init(_ c: ARPriorConfig, seed: UInt64, learningRate: Float = 3e-4) {
        config = c
        let ps = ParameterSet(seed: seed)
        params = ps
        embedding = TokenEmbedding(vocabulary: c.vocabulary + 1, features: c.features, params: ps, name: "tok_emb")
        position = PositionEmbedding(length: c.length, features: c.features, params: ps, name: "pos_emb")
        blocks = (0..<c.layers).map { TransformerBlock(features: c.features, heads: c.heads, mlpRatio: c.mlpRatio, causal: true, params: ps, name: "blocks.\($0)") }
        norm = LayerNorm(c.features, params: ps, name: "norm")
        head = Linear(c.features, c.vocabulary, params: ps, name: "head")
        ps.finalize()
        optimizer = Adam(parameterCount: params.count, learningRate: learningRate, weightDecay: 0.0, decoupledWeightDecay: true)
    }

    /// The shifted input of sequences [B, T]: BOS, then each sequence without its last word.
    func shifted(_ words: [Int], batch B: Int) -> [Int] {
        let T = config.length
        var x = [Int](repeating: config.vocabulary, count: B * T)
        for b in 0..<B { for t in 1..<max(1, T) { x[b * T + t] = words[b * T + t - 1] } }
        return x
    }

    /// Logits [B, T, V] for sequences [B, T] (row-major words in 0..<V); the head's own buffer, valid until its next forward.
    public func logits(_ words: [Int], batch B: Int) -> Tensor {
        head.forward(hidden(words, batch: B))
    }

    /// The trunk's output before the head: [B, T, C] (after the final LayerNorm).
    func hidden(_ words: [Int], batch B: Int) -> Tensor {
        var h = position.forward(embedding.forward(shifted(words, batch: B), batch: B, length: config.length))
        for blk in blocks { h = blk.forward(h) }
        return norm.forward(h)
    }

    /// Draws `count` sequences [count, T] word by word: word t from softmax(logits_t / temperature), kept to
    /// the `topK` most likely values when topK > 0. Word t's logits depend only on words < t (the mask), so
    /// each step reruns the trunk on the words drawn so far and applies the head to position t alone.
    public func sample(count B: Int, temperature: Double = 1, topK: Int = 0, seed: UInt64) -> [Int] {
        let T = config.length, V = config.vocabulary, C = config.features
        var rng = SplitMix64(seed: seed)
        var words = [Int](repeating: 0, count: B * T)
        let w = params.value(head.weightOffset), bias = head.biasOffset.map { params.value($0) }
        var rows = [Float](repeating: 0, count: B * C), z = [Float](repeating: 0, count: B * V)
        for t in 0..<T {
            let h = hidden(words, batch: B)
            for b in 0..<B { for c in 0..<C { rows[b * C + c] = h.data[(b * T + t) * C + c] } }
            // the head on position t alone: [B, C] · Wᵀ [C, V] (+ bias)
            rows.withUnsafeBufferPointer { r in z.withUnsafeMutableBufferPointer { zb in
                sgemm(transB: true, m: B, n: V, k: C, a: r.baseAddress!, lda: C, b: w, ldb: C, c: zb.baseAddress!, ldc: V)
            } }
            for b in 0..<B {
                var p = (0..<V).map { v in (Double(z[b * V + v]) + Double(bias?[v] ?? 0)) / temperature }
                if topK > 0 && topK < V {
                    let cut = p.sorted(by: >)[topK - 1]
                    for v in 0..<V where p[v] < cut { p[v] = -.infinity }
                }
                let m = p.max()!
                var total = 0.0
                for v in 0..<V { p[v] = exp(p[v] - m); total += p[v] }
                var u = rng.uniform() * total, pick = p.lastIndex { $0 > 0 } ?? 0   // the fallback only for rounding: a value not masked out
                for v in 0..<V { u -= p[v]; if u < 0 { pick = v; break } }
                words[b * T + t] = pick
            }
        }
        return words
    }

    /// Mean nats per word of sequences [B, T] under the prior (no gradient); per-sequence sums in `perSequence`.
    public func nats(_ words: [Int], batch B: Int, perSequence: inout [Double]) -> Double {
        let T = config.length
        var rows = [Double](repeating: 0, count: B * T)
        let mean = rows.withUnsafeMutableBufferPointer { loss.forward(logits(words, batch: B), targets: words, perRow: $0.baseAddress!, keepForBackward: false) }
        perSequence = (0..<B).map { b in rows[(b * T)..<((b + 1) * T)].reduce(0, +) }
        return mean
    }

    /// One optimizer step on sequences [B, T]; returns the batch's mean nats per word before the step.
    @discardableResult
    public func trainStep(_ words: [Int], batch B: Int, learningRate: Float? = nil) -> Double {
        if let lr = learningRate { optimizer.learningRate = lr }
        var untimed: [(stage: String, seconds: Double)]? = nil
        return step(words, batch: B, times: &untimed)
    }

    /// One training step with each stage timed (seconds): `tokbench bench ar --profile`.
    public func profileStep(_ words: [Int], batch B: Int) -> [(stage: String, seconds: Double)] {
        var times: [(stage: String, seconds: Double)]? = []
        step(words, batch: B, times: &times)
        return times!
    }

    /// The step itself: forward, cross-entropy, backward, Adam; each stage timed into `times` when it is not nil.
    @discardableResult
    func step(_ words: [Int], batch B: Int, times: inout [(stage: String, seconds: Double)]?) -> Double {
        func timed<R>(_ name: String, _ body: () -> R) -> R {
            guard times != nil else { return body() }
            let t0 = DispatchTime.now().uptimeNanoseconds
            let r = body()
            times!.append((name, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9))
            return r
        }
        params.zeroGrads()
        var h = timed("embeddings forward") { position.forward(embedding.forward(shifted(words, batch: B), batch: B, length: config.length)) }
        for (i, blk) in blocks.enumerated() { h = timed("block \(i) forward") { blk.forward(h) } }
        let n = timed("norm forward") { norm.forward(h) }
        let z = timed("head forward") { head.forward(n) }                    // [B, T, V]: the loss reads it as [B·T, V]
        let l = timed("cross-entropy forward") { loss.forward(z, targets: words) }
        let dz = timed("cross-entropy backward") { loss.backward() }            // [B·T, V]: Linear reads only its rows
        let dh = timed("head backward") { head.backward(dz) }
        var g = timed("norm backward") { norm.backward(dh) }
        for (i, blk) in blocks.enumerated().reversed() { g = timed("block \(i) backward") { blk.backward(g) } }
        timed("embeddings backward") { embedding.backward(position.backward(g)) }
        timed("Adam") { optimizer.update(params) }
        return l
    }
}
