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
            (5, 2, 3, 3, 1, 1, [5, 2, 6, 4]),     // stride 1, same padding, Cout < Cin: transposed strategy
            (6, 3, 5, 5, 1, 2, [6, 2, 5, 7]),     // transposed strategy, 5×5
            (4, 3, 5, 5, 1, 0, [4, 2, 7, 6]),     // Cout < Cin but not "same": im2col strategy
            (4, 2, 4, 4, 1, 2, [4, 1, 5, 5]),     // even kernel: im2col strategy
        ]
        for (i, c) in cases.enumerated() {
            let ps = ParameterSet(seed: UInt64(i))
            let conv = Conv2d(c.cin, c.cout, kernel: c.k, kernelW: c.kw, stride: c.s, padding: c.p, params: ps, name: "conv")
            GradCheck.check(conv, params: ps, inputShape: c.shape, seed: UInt64(100 + i))
        }
    }

    /// Fast conv (BLAS; im2col, transposed and pointwise strategies) equals the naive loop within 1e-4 at realistic sizes.
    func testFastConvEqualsNaive() {
        for (i, (cin, cout, k, s, p)) in [(16, 8, 4, 2, 1), (32, 8, 3, 1, 1), (8, 16, 3, 1, 1), (16, 12, 1, 1, 0)].enumerated() {
            let ps = ParameterSet(seed: UInt64(i))
            let conv = Conv2d(cin, cout, kernel: k, stride: s, padding: p, params: ps, name: "c")
            var rng = SplitMix64(seed: 4)
            let x = Tensor(shape: [cin, 2, 12, 10], values: GradCheck.random(cin * 2 * 120, &rng))  // [Cin, B, H, W]
            let y = conv.forward(x)
            let (Ho, Wo) = conv.outputSize(height: 12, width: 10)
            XCTAssertEqual(y.shape, [cout, 2, Ho, Wo])
            let (ref, _) = Ref.forward(conv, x.values.map(Double.init), shape: x.shape, params: ps.values.values.map(Double.init))
            for j in 0..<ref.count { XCTAssertEqual(Double(y[j]), ref[j], accuracy: 1e-4) }
        }
    }

    func testStrategySelection() {
        let ps = ParameterSet(seed: 0)
        XCTAssertEqual(Conv2d(128, 32, kernel: 3, padding: 1, params: ps, name: "a").strategy, .transposed)
        XCTAssertEqual(Conv2d(128, 128, kernel: 3, padding: 1, params: ps, name: "b").strategy, .im2col)
        XCTAssertEqual(Conv2d(32, 128, kernel: 1, params: ps, name: "c").strategy, .pointwise)
        XCTAssertEqual(Conv2d(64, 32, kernel: 4, stride: 2, padding: 1, params: ps, name: "d").strategy, .im2col)
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
