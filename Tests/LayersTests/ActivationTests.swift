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
}
