import XCTest
@testable import Kernels
@testable import Layers

final class LinearTests: XCTestCase {
    func testGradientsMatchFiniteDifferences() {
        for (i, (inF, outF, N)) in [(5, 3, 4), (1, 7, 2), (12, 9, 1)].enumerated() {
            let ps = ParameterSet(seed: UInt64(i))
            let l = Linear(inF, outF, params: ps, name: "fc")
            GradCheck.check(l, params: ps, inputShape: [N, inF], seed: UInt64(300 + i))  // x: [N, in]
        }
        let ps = ParameterSet(seed: 9)
        let noBias = Linear(4, 2, bias: false, params: ps, name: "fc")
        GradCheck.check(noBias, params: ps, inputShape: [3, 4])
        XCTAssertEqual(ps.entries.map(\.name), ["fc.weight"])
    }
}
