import XCTest
@testable import Metrics

final class BudgetTableTests: XCTestCase {
    func testBudgetTableShowsSeedNumbers() {
        let s = BudgetTable.render(bytesPerImage: 12288, shape: "64x64x3", bitsPerByte: 3, lengths: [256, 1024])
        XCTAssertTrue(s.contains("    256                  144.00"), s)
        XCTAssertTrue(s.contains("   1024                   36.00"), s)
    }
}
