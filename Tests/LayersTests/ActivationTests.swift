import XCTest
@testable import Kernels
@testable import Layers

final class ActivationTests: XCTestCase {
    func testReLUGradient() {
        GradCheck.check(ReLU(), params: ParameterSet(seed: 0), inputShape: [3, 2, 4, 5])
    }

    func testSiLUGradient() {
        GradCheck.check(SiLU(), params: ParameterSet(seed: 0), inputShape: [2, 3, 5, 3])
    }

    /// GELU is the exact erf form (PyTorch default approximate='none').
    func testGELUGradientAndErfForm() {
        GradCheck.check(GELU(), params: ParameterSet(seed: 0), inputShape: [2, 2, 3, 7])
        let y = GELU().forward(Tensor(shape: [3], values: [1, -1, 2]))
        // torch.nn.functional.gelu(torch.tensor([1., -1., 2.]))
        XCTAssertEqual(y[0], 0.8413447, accuracy: 1e-6)
        XCTAssertEqual(y[1], -0.1586553, accuracy: 1e-6)
        XCTAssertEqual(y[2], 1.9544997, accuracy: 1e-6)
    }

    /// Each function's bulk loops (the specialised witnesses Activation calls) equal value/derivative
    /// element by element, with exact zeros in the input (ReLU's kink).
    func testBulkLoopsMatchElementwise() {
        func check<F: ActivationFunction>(_ f: F.Type) {
            var rng = SplitMix64(seed: 3)
            let n = 1000
            let x = (0..<n).map { i in i % 7 == 0 ? 0 : rng.uniform(-4, 4) }, dy = (0..<n).map { _ in rng.uniform(-1, 1) }
            var y = [Float](repeating: .nan, count: n), dx = [Float](repeating: .nan, count: n)
            x.withUnsafeBufferPointer { xp in dy.withUnsafeBufferPointer { gp in
                y.withUnsafeMutableBufferPointer { F.forward(xp.baseAddress!, $0.baseAddress!, 0, n) }
                dx.withUnsafeMutableBufferPointer { F.backward(gp.baseAddress!, xp.baseAddress!, $0.baseAddress!, 0, n) }
            } }
            for i in 0..<n {
                XCTAssertEqual(y[i], F.value(x[i]), "\(F.self) forward \(i)")
                XCTAssertEqual(dx[i], dy[i] * F.derivative(x[i]), "\(F.self) backward \(i)")
            }
        }
        check(ReLUFunction.self); check(SiLUFunction.self); check(GELUFunction.self)
    }
}
