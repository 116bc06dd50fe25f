import XCTest
@testable import Kernels
@testable import Layers

final class NearestCodeQuantizerTests: XCTestCase {
    func testNearestCodeAndStraightThrough() {
        let ps = ParameterSet(seed: 0)
        let vq = NearestCodeQuantizer(codes: 7, dimension: 3, commitment: 0.25, params: ps)
        ps.finalize()
        var rng = SplitMix64(seed: 1)
        for i in 0..<ps.count { ps.values[i] = rng.uniform(-1, 1) }
        let B = 2, HW = 6
        let z = Tensor(shape: [B, 3, 2, 3], values: GradCheck.random(B * 3 * HW, &rng))  // [B, D, h, w]
        let zq = vq.forward(z)
        let E = ps.values.values
        var loss = 0.0
        for b in 0..<B { for p in 0..<HW {
            func dist(_ k: Int) -> Double { (0..<3).reduce(0) { a, d in let v = Double(z[(b * 3 + d) * HW + p] - E[k * 3 + d]); return a + v * v } }
            let best = (0..<7).min { dist($0) < dist($1) }!
            XCTAssertEqual(Int(vq.indices[b * HW + p]), best)
            for d in 0..<3 { XCTAssertEqual(zq[(b * 3 + d) * HW + p], E[best * 3 + d]) }
            loss += dist(best)
        } }
        XCTAssertEqual(Double(vq.loss), loss / Double(z.count) * 1.25, accuracy: 1e-5)
        // Straight-through: dz = dz_q + 2β(z − z_q)/numel.
        ps.zeroGrads()
        let g = Tensor(shape: z.shape, values: GradCheck.random(z.count, &rng))
        let dz = vq.backward(g)
        for i in 0..<z.count { XCTAssertEqual(dz[i], g[i] + 0.25 * 2 * (z[i] - zq[i]) / Float(z.count), accuracy: 1e-6) }
        // Codebook gradient of ‖sg(z) − e‖²/numel.
        var expected = [Double](repeating: 0, count: 21)
        for b in 0..<B { for p in 0..<HW { let k = Int(vq.indices[b * HW + p]); for d in 0..<3 {
            expected[k * 3 + d] += 2 * Double(E[k * 3 + d] - z[(b * 3 + d) * HW + p]) / Double(z.count) } } }
        for i in 0..<21 { XCTAssertEqual(Double(ps.grads[i]), expected[i], accuracy: 1e-6) }
    }
}
