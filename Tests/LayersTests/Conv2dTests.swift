import XCTest
@testable import Kernels
@testable import Layers

final class Conv2dTests: XCTestCase {
    /// Backward vs Double finite differences: stride 2, padding, non-square inputs and kernels, batch > 1, 1×1.
    func testGradientsMatchFiniteDifferences() {
        let cases: [(cin: Int, cout: Int, k: Int, kw: Int, s: Int, p: Int, shape: [Int])] = [
            (3, 4, 3, 3, 1, 1, [3, 2, 5, 7]),     // x: [Cin, B, H, W]
            (2, 3, 4, 4, 2, 1, [2, 3, 6, 8]),
            (4, 2, 3, 2, 2, 0, [4, 2, 7, 5]),     // non-square kernel, no padding
            (3, 5, 1, 1, 1, 0, [3, 2, 3, 4]),     // pointwise fast path
            (2, 2, 3, 3, 3, 2, [2, 2, 5, 6]),
            (5, 2, 3, 3, 1, 1, [5, 2, 6, 4]),     // stride 1, Cout < Cin: flipped-kernel input-gradient path
            (4, 3, 5, 5, 1, 0, [4, 2, 7, 6]),     // same path, no padding
            (4, 2, 4, 4, 1, 2, [4, 1, 5, 5]),     // same path, even kernel
        ]
        for (i, c) in cases.enumerated() {
            let ps = ParameterSet(seed: UInt64(i))
            let conv = Conv2d(c.cin, c.cout, kernel: c.k, kernelW: c.kw, stride: c.s, padding: c.p, params: ps, name: "conv")
            GradCheck.check(conv, params: ps, inputShape: c.shape, seed: UInt64(100 + i))
        }
    }

    /// Fast conv (im2col + BLAS) equals the naive loop within 1e-4 at a realistic size.
    func testFastConvEqualsNaive() {
        let ps = ParameterSet(seed: 3)
        let conv = Conv2d(16, 8, kernel: 4, stride: 2, padding: 1, params: ps, name: "c")
        var rng = SplitMix64(seed: 4)
        let x = Tensor(shape: [16, 2, 12, 10], values: GradCheck.random(16 * 2 * 120, &rng))  // [Cin, B, H, W]
        let y = conv.forward(x)
        XCTAssertEqual(y.shape, [8, 2, 6, 5])
        let (ref, _) = Ref.forward(conv, x.values.map(Double.init), shape: x.shape, params: ps.values.values.map(Double.init))
        for i in 0..<ref.count { XCTAssertEqual(Double(y[i]), ref[i], accuracy: 1e-4) }
    }

    /// PyTorch default init: weights and biases in ±1/√fan_in; names and shapes in PyTorch layout.
    func testInitAndNames() {
        let ps = ParameterSet(seed: 1)
        let conv = Conv2d(4, 6, kernel: 3, params: ps, name: "enc.0")
        ps.finalize()
        XCTAssertEqual(ps.entries.map(\.name), ["enc.0.weight", "enc.0.bias"])
        XCTAssertEqual(ps.entries[0].shape, [6, 4, 3, 3])
        let bound = 1 / Float(36).squareRoot()
        let w = ps.tensorValues("enc.0.weight")!
        XCTAssert(w.allSatisfy { abs($0) <= bound })
        XCTAssertGreaterThan(w.map(abs).max()!, 0.8 * bound)
        XCTAssertEqual(conv.weightOffset, 0)
        XCTAssertEqual(conv.biasOffset, 216)
    }
}
