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
