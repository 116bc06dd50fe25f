import XCTest
@testable import Coding

/// JointLeastSquares (three fits in SIMD lanes) against three OnlineLeastSquares (the scalar
/// reference): the same weights bit for bit, step after step, including a lane whose pivot fails.
final class JointLeastSquaresTests: XCTestCase {
    struct Rng { var s: UInt64; mutating func next() -> UInt64 { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s } }

    func assertSameWeights(_ joint: JointLeastSquares, _ ref: [OnlineLeastSquares], step: Int,
                           file: StaticString = #filePath, line: UInt = #line) {
        for c in 0..<3 {
            for i in 0..<joint.n where joint.weights[i][c].bitPattern != ref[c].weights[i].bitPattern {
                XCTFail("step \(step) channel \(c) weight \(i): \(joint.weights[i][c]) vs \(ref[c].weights[i])", file: file, line: line)
                return
            }
        }
    }

    func testLanesEqualThreeScalarFitsBitForBit() {
        let n = 11
        var joint = JointLeastSquares(features: n, lambda: 0.993)
        var ref = (0..<3).map { _ in OnlineLeastSquares(features: n, lambda: 0.993) }
        var rng = Rng(s: 5)
        for step in 0..<600 {
            // Correlated, image-like features: a base level with small offsets; some steps flat.
            let base = Int(rng.next() % 256)
            for c in 0..<3 {
                for i in 0..<n {
                    let v = step % 50 < 5 ? base : min(255, max(0, base + Int(rng.next() % 21) - 10))
                    joint.setFeature(i, channel: c, v)
                    ref[c].features[i] = Double(v)
                }
                XCTAssertEqual(joint.predict(channel: c).bitPattern, ref[c].predict().bitPattern)
                let value = min(255, max(0, base + Int(rng.next() % 7) - 3))
                joint.values[c] = Double(value)
                ref[c].update(value: Double(value))
            }
            joint.update()
            assertSameWeights(joint, ref, step: step)
        }
        XCTAssertTrue(ref.allSatisfy { $0.weights.contains { $0 != 0 } })   // the fits moved
    }

    func testAFailedPivotKeepsThatLanesWeightsOnly() {
        let n = 4
        var joint = JointLeastSquares(features: n, lambda: 0.9)
        var ref = (0..<3).map { _ in OnlineLeastSquares(features: n, lambda: 0.9) }
        for c in 0..<3 {
            for i in 0..<n { joint.setFeature(i, channel: c, 10 + i + c); ref[c].features[i] = Double(10 + i + c) }
            joint.values[c] = Double(20 + c); ref[c].update(value: Double(20 + c))
        }
        joint.update()
        assertSameWeights(joint, ref, step: 0)
        // Channel 1's matrix made indefinite: its third pivot fails, the others solve.
        for (i, j) in [(2, 2)] { joint.cov[i * n + j][1] = -5; ref[1].cov[i * n + j] = -5 }
        joint.rhs[0] = JointLeastSquares.Lanes(3, 3, 3, 0); for c in 0..<3 { ref[c].rhs[0] = 3 }
        let before = ref[1].weights
        joint.solve(); for c in 0..<3 { ref[c].solve() }
        XCTAssertEqual(ref[1].weights, before)
        XCTAssertNotEqual(ref[0].weights, before)
        assertSameWeights(joint, ref, step: 1)
    }
}
