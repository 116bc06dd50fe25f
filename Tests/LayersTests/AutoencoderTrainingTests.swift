import XCTest
@testable import Kernels
@testable import Layers

final class AutoencoderTrainingTests: XCTestCase {
    /// Deterministic smooth blobs: x: [B, 1, 16, 16] in [−0.5, 0.5].
    static func blobs(batch: Int, size: Int, seed: UInt64) -> Tensor {
        var rng = SplitMix64(seed: seed)
        let x = Tensor(shape: [batch, 1, size, size])
        for b in 0..<batch {
            let blobs = (0..<3).map { _ in (Double(rng.uniform(2, Float(size - 2))), Double(rng.uniform(2, Float(size - 2))),
                                           Double(rng.uniform(1.5, 4)), Double(rng.uniform(-1, 1))) }
            for y in 0..<size { for xx in 0..<size {
                var v = 0.0
                for (cy, cx, r, a) in blobs { v += a * exp(-((Double(y) - cy) * (Double(y) - cy) + (Double(xx) - cx) * (Double(xx) - cx)) / (2 * r * r)) }
                x.data[(b * size + y) * size + xx] = Float(max(-0.5, min(0.5, v * 0.5)))
            } }
        }
        return x
    }

    /// Train the backbone as a plain autoencoder on a fixed batch: the loss must fall by at least half.
    func testLossHalves() {
        let model = Autoencoder(config: BackboneConfig(channels: 1, hidden: 16, residual: 8, latent: 4, downsamplings: 2),
                                learningRate: 2e-3, seed: 0)
        model.clipNorm = 1
        let x = Self.blobs(batch: 8, size: 16, seed: 3)
        let first = model.trainStep(x)
        var last = first
        for _ in 0..<60 { last = model.trainStep(x) }
        XCTAssertLessThan(last, 0.5 * first, "loss \(first) → \(last)")
        XCTAssertEqual(model.optimizer.step, 61)
    }

    /// With a VQ bottleneck the step runs end to end and the loss still falls.
    func testVQAutoencoderTrains() {
        let model = Autoencoder(config: BackboneConfig(channels: 1, hidden: 8, residual: 4, latent: 4, downsamplings: 2),
                                codebookSize: 16, learningRate: 2e-3, seed: 1)
        let x = Self.blobs(batch: 4, size: 8, seed: 5)
        let first = model.trainStep(x)
        var last = first
        for _ in 0..<30 { last = model.trainStep(x) }
        XCTAssert(last.isFinite)
        XCTAssertLessThan(last, first)
    }
}
