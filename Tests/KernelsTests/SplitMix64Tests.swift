import XCTest
@testable import Kernels

final class SplitMix64Tests: XCTestCase {
    /// Reference outputs of Vigna's splitmix64.c (state += 0x9E3779B97F4A7C15, then the two
    /// xor-shift-multiply rounds), computed independently with Python integers. Seed 1234567 is the
    /// widely published test vector (6457827717110365317, 3203168211198807973, …).
    func testMatchesReferenceOutputs() {
        let reference: [(seed: UInt64, outputs: [UInt64])] = [
            (0, [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F, 0xF88B_B8A8_724C_81EC, 0x1B39_896A_51A8_749B]),
            (1, [0x910A_2DEC_8902_5CC1, 0xBEEB_8DA1_658E_EC67, 0xF893_A2EE_FB32_555E, 0x71C1_8690_EE42_C90B, 0x71BB_54D8_D101_B5B9]),
            (1_234_567, [6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423,
                         4_593_380_528_125_082_431, 16_408_922_859_458_223_821]),
        ]
        for (seed, outputs) in reference {
            var rng = SplitMix64(seed: seed)
            let got = (0..<outputs.count).map { _ in rng.next() }
            XCTAssertEqual(got, outputs, "seed \(seed)")
        }
    }

    func testNextAdvancesTheStateByTheGoldenGamma() {
        let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15
        var rng = SplitMix64(seed: 0)
        XCTAssertEqual(rng.state, 0)
        var previous: UInt64? = nil
        for k in 1...1000 {
            let v = rng.next()
            XCTAssertEqual(rng.state, UInt64(k) &* gamma, "state after \(k) draws")
            if let p = previous { XCTAssertNotEqual(v, p, "draw \(k) repeats the previous one") }
            previous = v
        }
        // A copy continues the same stream; a different seed gives a different stream.
        var a = SplitMix64(seed: 99)
        var b = a
        var c = SplitMix64(seed: 100)
        let sa = (0..<50).map { _ in a.next() }, sb = (0..<50).map { _ in b.next() }, sc = (0..<50).map { _ in c.next() }
        XCTAssertEqual(sa, sb)
        XCTAssertNotEqual(sa, sc)
        XCTAssertEqual(Set(sa).count, 50)
    }

    func testUniformUsesTheTop53Bits() {
        // uniform() = (next() >> 11) · 2⁻⁵³: the reference doubles (Python) for seeds 0 and 7.
        var r0 = SplitMix64(seed: 0)
        XCTAssertEqual(r0.uniform(), 0.8833108082136426)
        XCTAssertEqual(r0.uniform(), 0.43152799704850997)
        XCTAssertEqual(r0.uniform(), 0.026433771592597743)
        var r7 = SplitMix64(seed: 7)
        XCTAssertEqual(r7.uniform(), 0.3898297483912715)
        XCTAssertEqual(r7.uniform(), 0.01678829452815611)
    }

    func testHelpersStayInRange() {
        var rng = SplitMix64(seed: 11)
        var distinct = Set<Double>()
        for _ in 0..<10_000 {
            let u = rng.uniform()
            XCTAssert(u >= 0 && u < 1, "uniform() = \(u)")
            distinct.insert(u)
        }
        XCTAssertEqual(distinct.count, 10_000, "uniform() repeats: the state does not advance")
        var lowSeen = false, highSeen = false
        for _ in 0..<10_000 {
            let v = rng.uniform(-2, 3)
            XCTAssert(v >= -2 && v < 3, "uniform(-2, 3) = \(v)")
            lowSeen = lowSeen || v < -1.5; highSeen = highSeen || v > 2.5
        }
        XCTAssertTrue(lowSeen && highSeen, "uniform(-2, 3) does not cover its range")
        for n in [1, 2, 7, 1000] {
            var counts = [Int](repeating: 0, count: n)
            for _ in 0..<(n == 1000 ? 20_000 : 2_000) {
                let k = rng.int(below: n)
                XCTAssert(k >= 0 && k < n, "int(below: \(n)) = \(k)")
                if k >= 0 && k < n { counts[k] += 1 }
            }
            if n <= 7 { XCTAssertTrue(counts.allSatisfy { $0 > 0 }, "int(below: \(n)) misses values: \(counts)") }
        }
        for _ in 0..<1000 {
            let z = rng.normal()
            XCTAssert(z.isFinite && abs(z) < 10, "normal() = \(z)")
        }
        let p = rng.permutation(50)
        XCTAssertEqual(p.sorted(), Array(0..<50))
        XCTAssertNotEqual(p, Array(0..<50))
        XCTAssertEqual(rng.permutation(0), [])
        XCTAssertEqual(rng.permutation(1), [0])
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
