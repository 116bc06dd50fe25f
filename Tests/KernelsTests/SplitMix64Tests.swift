import XCTest
@testable import Kernels

final class SplitMix64Tests: XCTestCase {
    func testDeterministicAndKnownFirstValue() {
        var a = SplitMix64(seed: 0), b = SplitMix64(seed: 0), c = SplitMix64(seed: 1)
        // Reference value of SplitMix64 with seed 0 (Vigna's splitmix64.c).
        XCTAssertEqual(a.next(), 0xE220_A839_7B1D_CDAF)
        _ = b.next()
        for _ in 0..<100 { XCTAssertEqual(a.next(), b.next()) }
        XCTAssertNotEqual(SplitMix64(seed: 0).state, c.state)
        _ = c.next()
    }

    func testUniformAndNormalMoments() {
        var rng = SplitMix64(seed: 42)
        let n = 200_000
        var s = 0.0, ss = 0.0, mn = 1.0, mx = 0.0
        for _ in 0..<n { let u = rng.uniform(); s += u; mn = min(mn, u); mx = max(mx, u) }
        XCTAssertEqual(s / Double(n), 0.5, accuracy: 0.005)
        XCTAssertGreaterThanOrEqual(mn, 0); XCTAssertLessThan(mx, 1)
        s = 0
        for _ in 0..<n { let z = rng.normal(); s += z; ss += z * z }
        XCTAssertEqual(s / Double(n), 0, accuracy: 0.01)
        XCTAssertEqual(ss / Double(n), 1, accuracy: 0.02)
        for _ in 0..<1000 { let v = rng.uniform(-2, 3); XCTAssert(v >= -2 && v < 3) }
        for _ in 0..<1000 { let k = rng.int(below: 7); XCTAssert(k >= 0 && k < 7) }
    }
}
