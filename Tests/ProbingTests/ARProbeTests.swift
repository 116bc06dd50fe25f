import XCTest
import Foundation
@testable import Probing
import Kernels

/// The probe's training loop and sampler: a prior trained on one repeated sequence draws that sequence,
/// greedy sampling (top_k = 1) picks each word's argmax of the full-sequence logits (the sampler's head on
/// one row equals the head on all rows), the schedule warms up and decays, and a probe is a pure function of its seed.
final class ARProbeTests: XCTestCase {
    func testGreedySamplingEqualsTheArgmaxOfTheFullLogits() {
        let p = ARPrior(ARPriorConfig(vocabulary: 7, length: 5, features: 8, layers: 1, heads: 2, mlpRatio: 2), seed: 4)
        let words = p.sample(count: 3, topK: 1, seed: 9)
        let z = p.logits(words, batch: 3)
        for b in 0..<3 { for t in 0..<5 {
            let row = (0..<7).map { z.values[(b * 5 + t) * 7 + $0] }
            XCTAssertEqual(words[b * 5 + t], row.firstIndex(of: row.max()!)!, "sequence \(b) word \(t)")
        } }
    }

    /// top_k = 2 draws only each word's two most likely values (under the full-sequence logits of what was drawn), and both of them.
    func testTopKKeepsTheKMostLikelyValues() {
        let p = ARPrior(ARPriorConfig(vocabulary: 9, length: 4, features: 8, layers: 1, heads: 2, mlpRatio: 2), seed: 6)
        let words = p.sample(count: 200, topK: 2, seed: 1)
        let z = p.logits(words, batch: 200)
        var seconds = 0
        for b in 0..<200 { for t in 0..<4 {
            let row = (0..<9).map { z.values[(b * 4 + t) * 9 + $0] }
            let top = row.enumerated().sorted { $0.element > $1.element }.prefix(2).map(\.offset)
            XCTAssertTrue(top.contains(words[b * 4 + t]), "sequence \(b) word \(t): \(words[b * 4 + t]) is not in the top 2 \(top)")
            if words[b * 4 + t] == top[1] { seconds += 1 }
        } }
        XCTAssertGreaterThan(seconds, 20)   // the second value is drawn too (it is not greedy)
    }

    func testAPriorOfOneSequenceDrawsIt() {
        var config = ARProbeConfig()
        config.features = 16; config.heads = 2; config.layers = 1; config.mlpRatio = 2; config.steps = 200; config.batch = 4
        config.learningRate = 1e-2; config.warmup = 10; config.evalEvery = 100
        let seq: [UInt32] = [3, 1, 4, 1, 5, 2]
        let data = WordSequences(count: 3, length: 6, vocabulary: 8, words: seq + seq + seq)
        let (prior, outcome) = ARProbe.train(config, seed: 1, train: data, eval: data)
        XCTAssertLessThan(outcome.evalBitsPerWord, 0.05)
        XCTAssertEqual(outcome.curve.map(\.step), [100, 200])
        XCTAssertEqual(outcome.evalBitsPerSequence.count, 3)
        XCTAssertEqual(outcome.evalBitsPerSequence.reduce(0, +) / 18, outcome.evalBitsPerWord, accuracy: 1e-12)
        let drawn = prior.sample(count: 20, seed: 3)
        XCTAssertGreaterThanOrEqual((0..<20).filter { Array(drawn[($0 * 6)..<($0 * 6 + 6)]) == seq.map(Int.init) }.count, 18)
    }

    func testScheduleAndDeterminism() {
        var c = ARProbeConfig()
        c.steps = 100; c.warmup = 10; c.learningRate = 1e-3
        XCTAssertEqual(c.learningRate(at: 5), 5e-4, accuracy: 1e-15)
        XCTAssertEqual(c.learningRate(at: 10), 1e-3, accuracy: 1e-15)
        XCTAssertEqual(c.learningRate(at: 55), 5e-4, accuracy: 1e-12)
        XCTAssertEqual(c.learningRate(at: 100), 0, accuracy: 1e-15)
        c.features = 8; c.heads = 2; c.layers = 1; c.steps = 12; c.batch = 3; c.evalEvery = 6
        var rng = SplitMix64(seed: 5)
        let data = WordSequences(count: 10, length: 4, vocabulary: 5, words: (0..<40).map { _ in UInt32(rng.int(below: 5)) })
        let a = ARProbe.train(c, seed: 2, train: data, eval: data).1, b = ARProbe.train(c, seed: 2, train: data, eval: data).1
        XCTAssertEqual(a.evalBitsPerSequence, b.evalBitsPerSequence)
        XCTAssertNotEqual(a.evalBitsPerSequence, ARProbe.train(c, seed: 3, train: data, eval: data).1.evalBitsPerSequence)
    }
}
