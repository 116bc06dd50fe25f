import XCTest
import Foundation
@testable import Probing
import Layers
import Kernels

/// The autoregressive prior's hand cases: an untrained head pays exactly log2 V bits per word, a prior
/// trained on one repeated sequence pays about 0, the embedding's backward is its scatter-add, and the
/// prior's word t never sees words ≥ t.
final class ARPriorTests: XCTestCase {
    func testZeroHeadPaysExactlyLog2V() {
        let p = ARPrior(ARPriorConfig(vocabulary: 16, length: 6, features: 8, layers: 1, heads: 2), seed: 1)
        let head = p.params.entry(named: "head.weight")!, bias = p.params.entry(named: "head.bias")!
        for i in 0..<head.count { p.params.values[head.offset + i] = 0 }
        for i in 0..<bias.count { p.params.values[bias.offset + i] = 0 }
        var per: [Double] = []
        let nats = p.nats([1, 2, 3, 4, 5, 6, 15, 0, 3, 3, 3, 9], batch: 2, perSequence: &per)
        XCTAssertEqual(nats / log(2), 4, accuracy: 1e-9)
        XCTAssertEqual(per.map { $0 / log(2) }, [24, 24].map(Double.init))
    }

    func testARepeatedSequenceCostsAboutNothing() {
        let p = ARPrior(ARPriorConfig(vocabulary: 8, length: 6, features: 16, layers: 1, heads: 2, mlpRatio: 2), seed: 2, learningRate: 1e-2)
        let seq = [3, 1, 4, 1, 5, 2]
        let batch = Array(repeating: seq, count: 4).flatMap { $0 }
        let first = p.trainStep(batch, batch: 4)
        for _ in 0..<150 { p.trainStep(batch, batch: 4) }
        var per: [Double] = []
        let bits = p.nats(batch, batch: 4, perSequence: &per) / log(2)
        XCTAssertEqual(first / log(2), 3, accuracy: 0.5)      // ~log2 8 at the start
        XCTAssertLessThan(bits, 0.02)
    }

    func testEmbeddingBackwardIsTheScatterAdd() {
        let ps = ParameterSet(seed: 3)
        let e = TokenEmbedding(vocabulary: 4, features: 2, params: ps, name: "e")
        ps.finalize()
        let y = e.forward([2, 0, 2], batch: 1, length: 3)
        XCTAssertEqual(Array(y.values[0..<2]), Array(ps.values.values[4..<6]))
        ps.zeroGrads()
        e.backward(Tensor(shape: [1, 3, 2], values: [1, 2, 3, 4, 5, 6]))
        XCTAssertEqual(Array(ps.grads.values[0..<8]), [3, 4, 0, 0, 1 + 5, 2 + 6, 0, 0])
    }

    func testAWordSeesOnlyEarlierWords() {
        let p = ARPrior(ARPriorConfig(vocabulary: 10, length: 5, features: 8, layers: 2, heads: 2), seed: 4)
        let base = [1, 2, 3, 4, 5]
        let z0 = p.logits(base, batch: 1).values
        for t in 0..<5 {
            var w = base; w[t] = (w[t] + 3) % 10
            let z = p.logits(w, batch: 1).values
            // Logits of words 0…t are computed from words before each: unchanged; word t+1 on sees the change.
            XCTAssertEqual(Array(z[0..<((t + 1) * 10)]), Array(z0[0..<((t + 1) * 10)]), "word \(t) leaked")
            if t < 4 { XCTAssertNotEqual(Array(z[((t + 1) * 10)...]), Array(z0[((t + 1) * 10)...])) }
        }
    }
}
