import XCTest
@testable import Kernels
@testable import Layers

final class ResidualBlockTests: XCTestCase {
    func testGradientsMatchFiniteDifferences() {
        let ps = ParameterSet(seed: 5)
        let res = ResidualBlock(hidden: 4, residual: 3, params: ps, name: "res")
        XCTAssertEqual(ps.entries.map(\.name), ["res.block.1.weight", "res.block.1.bias", "res.block.3.weight", "res.block.3.bias"])
        GradCheck.check(res, params: ps, inputShape: [4, 2, 5, 3])  // x: [h, B, H, W]
    }

    /// The fused block over 3 concurrent workers (slices, per-worker partials): still the finite
    /// differences, and the same outputs and gradients as serially up to float rounding.
    func testGradientsOverWorkers() {
        let saved = (Threading.workers, Threading.splitsGEMM)
        defer { Threading.configure(threads: saved.0, splitGEMM: saved.1) }
        Threading.configure(threads: 3, splitGEMM: true)
        let ps = ParameterSet(seed: 7)
        let res = ResidualBlock(hidden: 5, residual: 2, params: ps, name: "res")
        GradCheck.check(res, params: ps, inputShape: [5, 7, 3, 4])
    }

    /// Bit-identical outputs and gradients on 1, 2 and 3 threads (per-slice partials, added in slice order).
    func testSameNumbersOnAnyThreadCount() {
        let saved = (Threading.workers, Threading.splitsGEMM)
        defer { Threading.configure(threads: saved.0, splitGEMM: saved.1) }
        var results: [[Float]] = []
        for (threads, split) in [(1, false), (2, true), (3, true)] {
            Threading.configure(threads: threads, splitGEMM: split)
            let ps = ParameterSet(seed: 10)
            let res = ResidualBlock(hidden: 8, residual: 4, params: ps, name: "res")
            ps.finalize()
            var rng = SplitMix64(seed: 11)
            let x = Tensor(shape: [8, 13, 5, 6], values: GradCheck.random(8 * 13 * 30, &rng))
            let y = res.forward(x).values
            ps.zeroGrads()
            let dx = res.backward(Tensor(shape: x.shape, values: GradCheck.random(x.count, &rng))).values
            results.append(y + dx + ps.grads.values)
        }
        XCTAssertEqual(results[0], results[1])
        XCTAssertEqual(results[0], results[2])
    }

    /// Forward equals the unfused chain ReLU → conv3×3 → ReLU → conv1×1, plus x (Conv2d layers on the same parameters).
    func testFusedForwardEqualsChain() {
        let ps = ParameterSet(seed: 8)
        let res = ResidualBlock(hidden: 6, residual: 3, params: ps, name: "res")
        ps.finalize()
        var rng = SplitMix64(seed: 9)
        let x = Tensor(shape: [6, 5, 4, 6], values: GradCheck.random(6 * 5 * 24, &rng))
        let y = res.forward(x).values
        let chain = res.conv1.forward(ReLU().forward(res.conv3.forward(ReLU().forward(x)))).values
        for i in 0..<y.count { XCTAssertEqual(y[i], x[i] + chain[i], accuracy: 1e-5) }
    }

    func testSequentialGradient() {
        let ps = ParameterSet(seed: 6)
        let net = Sequential([
            Conv2d(2, 4, kernel: 3, stride: 2, padding: 1, params: ps, name: "s.0"), GELU(),
            GroupNorm(groups: 2, channels: 4, params: ps, name: "s.2"), SiLU(),
            ConvTranspose2d(4, 2, kernel: 4, stride: 2, padding: 1, params: ps, name: "s.4"),
        ])
        GradCheck.check(net, params: ps, inputShape: [2, 2, 6, 4])
    }
}
