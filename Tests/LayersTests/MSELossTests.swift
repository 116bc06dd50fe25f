import XCTest
@testable import Kernels
@testable import Layers

final class MSELossTests: XCTestCase {
    func testValueAndGradient() {
        let y = Tensor(shape: [2, 2], values: [1, 2, 3, 4]), t = Tensor(shape: [2, 2], values: [0, 2, 5, 3])
        let mse = MSELoss()
        XCTAssertEqual(mse.forward(y, t), (1 + 0 + 4 + 1) / 4)
        XCTAssertEqual(mse.backward().values, [0.5, 0, -1, 0.5])  // 2(y − t)/N
        XCTAssertEqual(mse.backward(scale: 2).values, [1, 0, -2, 1])
        // finite differences in Double
        let yD = y.values.map(Double.init), tD = t.values.map(Double.init)
        func loss(_ v: [Double]) -> Double {
            var s = 0.0
            for i in v.indices { let d = v[i] - tD[i]; s += d * d }
            return s / 4
        }
        let num = GradCheck.numeric(loss, at: yD)
        XCTAssertLessThanOrEqual(GradCheck.relativeError(mse.backward().values.map(Double.init), num), 1e-6)
    }
}
