import XCTest
import Store
@testable import Reports

final class TableTextTests: XCTestCase {
    let r = QueryResult(columns: ["a", "psnr"], rows: [[.text("x,y"), .real(.infinity)], [.integer(3), .real(31.25)]])

    func testFormats() throws {
        XCTAssertEqual(TableText.csv(r), "a,psnr\n\"x,y\",inf\n3,31.25\n")
        XCTAssertEqual(TableText.aligned(r), "a    psnr\n---  -----\nx,y  inf\n3    31.25\n(2 rows)\n")
        let parsed = try JSONSerialization.jsonObject(with: Data(TableText.json(r).utf8)) as! [[String: Any]]
        XCTAssertEqual(parsed[0]["psnr"] as? String, "inf")
        XCTAssertEqual(parsed[1]["psnr"] as? Double, 31.25)
        XCTAssertEqual(TableText.cell(.real(0.000001)), "0")
        XCTAssertEqual(TableText.cell(.real(2.5)), "2.5")
    }
}
