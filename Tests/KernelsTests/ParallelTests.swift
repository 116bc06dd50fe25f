import XCTest
@testable import Kernels

final class ParallelTests: XCTestCase {
    func testParallelForVisitsEveryIndexOnce() {
        let saved = Threading.workers
        defer { Threading.workers = saved }
        for workers in [1, 2, 3] {
            Threading.workers = workers
            for n in [0, 1, 5, 97, 10_000] {
                let counts = UnsafeMutablePointer<Int32>.allocate(capacity: max(n, 1))
                counts.initialize(repeating: 0, count: max(n, 1))
                parallelFor(n) { i in counts[i] += 1 }
                for i in 0..<n { XCTAssertEqual(counts[i], 1, "n\(n) i\(i) workers\(workers)") }
                counts.deallocate()
            }
        }
    }

    func testElementwiseHelpers() {
        let n = 100_003
        let a = Tensor(shape: [n]), b = Tensor(shape: [n])
        for i in 0..<n { a[i] = Float(i % 7); b[i] = 1 }
        addInPlace(a.data, b.data, count: n)
        XCTAssertEqual(a[10], 4)
        XCTAssertEqual(sumOfSquares(b.data, count: n), Double(n))
        scaleInPlace(b.data, by: 3, count: n)
        XCTAssertEqual(b[n - 1], 3)
    }
}
