import XCTest
@testable import Kernels

final class ElementwiseTests: XCTestCase {
    /// The 16-lane row sums equal the sequential Double reference, for row lengths around the lane width
    /// (tails of 0…15) and a long row (Float rounding grows with N: 1e-6·N).
    func testRowSumsMatchNaive() {
        var rng = SplitMix64(seed: 7)
        for (R, N) in [(1, 1), (3, 15), (5, 16), (4, 17), (7, 33), (130, 4096), (2, 100_003)] {
            let x = (0..<(R * N)).map { _ in rng.uniform(-1, 1) }
            let start = (0..<R).map { _ in rng.uniform(-1, 1) }
            var fast = start, slow = start
            x.withUnsafeBufferPointer { xp in
                fast.withUnsafeMutableBufferPointer { accumulateRowSums(xp.baseAddress!, rows: R, columns: N, into: $0.baseAddress!) }
                slow.withUnsafeMutableBufferPointer { accumulateRowSumsNaive(xp.baseAddress!, rows: R, columns: N, into: $0.baseAddress!) }
            }
            for r in 0..<R {
                XCTAssertEqual(fast[r], slow[r], accuracy: 1e-6 * Float(N) + 1e-5, "R\(R) N\(N) r\(r)")
                XCTAssertNotEqual(fast[r], start[r], "R\(R) N\(N) r\(r): nothing was added")
            }
        }
    }
}
