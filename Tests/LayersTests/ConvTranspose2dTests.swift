import XCTest
@testable import Kernels
@testable import Layers

final class ConvTranspose2dTests: XCTestCase {
    func testOutputSizeFormula() {
        let ps = ParameterSet(seed: 0)
        let t = ConvTranspose2d(2, 3, kernel: 4, stride: 2, padding: 1, params: ps, name: "t")
        XCTAssert(t.outputSize(height: 8, width: 5) == (16, 10))   // (H−1)·s − 2p + k
        let u = ConvTranspose2d(2, 3, kernel: 3, stride: 3, padding: 0, params: ps, name: "u")
        XCTAssert(u.outputSize(height: 2, width: 4) == (6, 12))
        XCTAssertEqual(ps.entries.first!.shape, [2, 3, 4, 4])       // weight: [Cin, Cout, kh, kw]
    }

    /// Backward vs Double finite differences of the PyTorch-semantics reference.
    func testGradientsMatchFiniteDifferences() {
        let cases: [(cin: Int, cout: Int, k: Int, kw: Int, s: Int, p: Int, shape: [Int])] = [
            (3, 2, 4, 4, 2, 1, [3, 2, 4, 5]),    // the decoder's upsampler; x: [Cin, B, H, W]
            (2, 3, 3, 3, 1, 1, [2, 3, 5, 4]),
            (2, 2, 3, 2, 2, 0, [2, 2, 3, 4]),    // non-square kernel
            (4, 3, 1, 1, 1, 0, [4, 2, 3, 3]),
            (2, 3, 5, 5, 3, 2, [2, 1, 3, 2]),
        ]
        for (i, c) in cases.enumerated() {
            let ps = ParameterSet(seed: UInt64(i))
            let t = ConvTranspose2d(c.cin, c.cout, kernel: c.k, kernelW: c.kw, stride: c.s, padding: c.p, params: ps, name: "t")
            GradCheck.check(t, params: ps, inputShape: c.shape, seed: UInt64(200 + i))
        }
    }
}
