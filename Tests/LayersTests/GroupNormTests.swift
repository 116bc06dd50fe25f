import XCTest
@testable import Kernels
@testable import Layers

final class GroupNormTests: XCTestCase {
    func testGradientsMatchFiniteDifferences() {
        for (i, (G, C, shape)) in [(2, 4, [4, 3, 3, 5]), (1, 3, [3, 2, 4, 4]), (3, 3, [3, 2, 2, 3])].enumerated() {
            let ps = ParameterSet(seed: UInt64(i))
            let gn = GroupNorm(groups: G, channels: C, params: ps, name: "gn")
            ps.finalize()
            // Non-trivial affine parameters so their gradients matter.
            var rng = SplitMix64(seed: 50)
            for j in 0..<ps.count { ps.values[j] = rng.uniform(0.5, 1.5) }
            GradCheck.check(gn, params: ps, inputShape: shape, seed: UInt64(400 + i))
        }
    }

    func testNonAffineHasNoParametersAndCorrectGradients() {
        let ps = ParameterSet(seed: 4)
        let gn = GroupNorm(groups: 1, channels: 3, affine: false, params: ps, name: "gn")
        XCTAssertTrue(ps.entries.isEmpty)
        GradCheck.check(gn, params: ps, inputShape: [3, 2, 2, 3], seed: 9)
    }

    func testNormalisedStatistics() {
        let ps = ParameterSet(seed: 0)
        let gn = GroupNorm(groups: 2, channels: 4, params: ps, name: "gn")
        var rng = SplitMix64(seed: 1)
        let x = Tensor(shape: [4, 2, 3, 3], values: (0..<72).map { _ in rng.uniform(3, 9) })  // [C, B, H, W]
        let y = gn.forward(x)
        // group 0 of sample 1: channels 0,1
        var s = 0.0, ss = 0.0
        for c in 0..<2 { for i in 0..<9 { let v = Double(y[(c * 2 + 1) * 9 + i]); s += v; ss += v * v } }
        XCTAssertEqual(s / 18, 0, accuracy: 1e-5)
        XCTAssertEqual(ss / 18, 1, accuracy: 1e-3)
    }
}
