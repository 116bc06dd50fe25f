import XCTest
@testable import Kernels
@testable import Layers

final class AdamTests: XCTestCase {
    /// One step on p = [1, −2, 0.5], g = [0.1, −0.3, 0]: after bias correction m̂ = g, v̂ = g², so
    /// p₁ = p − lr·g/(|g| + ε), i.e. a step of ±lr (and 0 where g = 0).
    func testOneStepByHand() {
        let adam = Adam(parameterCount: 3, learningRate: 0.01)
        let p = Tensor(shape: [3], values: [1, -2, 0.5]), g = Tensor(shape: [3], values: [0.1, -0.3, 0])
        adam.update(values: p, grads: g)
        XCTAssertEqual(adam.step, 1)
        XCTAssertEqual(p[0], 1 - 0.01 * 0.1 / (0.1 + 1e-8), accuracy: 1e-7)
        XCTAssertEqual(p[1], -2 + 0.01 * 0.3 / (0.3 + 1e-8), accuracy: 1e-7)
        XCTAssertEqual(p[2], 0.5)
        XCTAssertEqual(adam.m.values[0], 0.01, accuracy: 1e-8)           // (1 − β₁)·g
        XCTAssertEqual(adam.v.values[1], 0.001 * 0.09, accuracy: 1e-8)   // (1 − β₂)·g²
    }

    /// Two steps with L2 weight decay against the torch.optim.Adam formula written out in Double.
    func testTwoStepsWithWeightDecayMatchFormula() {
        let lr = 0.05, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1
        var p = [0.3, -0.7], m = [0.0, 0.0], v = [0.0, 0.0]
        let grads: [[Double]] = [[0.2, 0.4], [-0.1, 0.05]]
        let adam = Adam(parameterCount: 2, learningRate: Float(lr), weightDecay: Float(wd))
        let pt = Tensor(shape: [2], values: p.map(Float.init))
        for (t, g) in grads.enumerated() {
            for i in 0..<2 {
                let gi = g[i] + wd * p[i]
                m[i] = b1 * m[i] + (1 - b1) * gi; v[i] = b2 * v[i] + (1 - b2) * gi * gi
                let bc1 = 1 - pow(b1, Double(t + 1)), bc2 = 1 - pow(b2, Double(t + 1))
                p[i] -= lr / bc1 * m[i] / (v[i].squareRoot() / bc2.squareRoot() + eps)
            }
            adam.update(values: pt, grads: Tensor(shape: [2], values: g.map(Float.init)))
        }
        XCTAssertEqual(Double(pt[0]), p[0], accuracy: 1e-6)
        XCTAssertEqual(Double(pt[1]), p[1], accuracy: 1e-6)
    }

    /// AdamW decays the weights multiplicatively before the Adam step.
    func testAdamWDecoupledDecay() {
        let adam = Adam(parameterCount: 1, learningRate: 0.1, weightDecay: 0.5, decoupledWeightDecay: true)
        let p = Tensor(shape: [1], values: [2]), g = Tensor(shape: [1], values: [0])
        adam.update(values: p, grads: g)
        XCTAssertEqual(p[0], 2 * (1 - 0.1 * 0.5), accuracy: 1e-7)
    }

    func testGradientClipping() {
        let g = Tensor(shape: [2], values: [3, 4])
        XCTAssertEqual(clipGradientNorm(g, maxNorm: 10), 5)
        XCTAssertEqual(g.values, [3, 4])
        XCTAssertEqual(clipGradientNorm(g, maxNorm: 1), 5)
        XCTAssertEqual(g[0], 0.6, accuracy: 1e-6); XCTAssertEqual(g[1], 0.8, accuracy: 1e-6)
    }

    func testStateRoundTripsThroughSafeTensors() throws {
        let adam = Adam(parameterCount: 4, learningRate: 0.01)
        let p = Tensor(shape: [4], values: [1, 2, 3, 4])
        adam.update(values: p, grads: Tensor(shape: [4], values: [0.1, 0.2, -0.3, 0.4]))
        let (tensors, meta) = adam.stateTensors()
        let decoded = try SafeTensors.decode(SafeTensors.encode(tensors, metadata: meta))
        let other = Adam(parameterCount: 4, learningRate: 0.01)
        try other.restoreState(tensors: decoded.tensors, metadata: decoded.metadata)
        XCTAssertEqual(other.step, 1)
        XCTAssertEqual(other.m.values, adam.m.values)
        XCTAssertEqual(other.v.values, adam.v.values)
    }
}
