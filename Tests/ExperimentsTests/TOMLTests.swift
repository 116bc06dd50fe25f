import XCTest
@testable import Experiments

final class TOMLTests: XCTestCase {
    func testValuesTablesAndLines() throws {
        let doc = try TOMLParser.parse("""
            # comment
            name = "a \\"q\\" b"   # trailing comment
            n = 1_000
            x = -3e-4
            lit = 'C:\\path'
            ok = true
            list = [1, 2,
                    3,]   # multi-line with trailing comma
            [dataset]
            kind = "fashion-mnist"
            [[tokenizer]]
            kind = "a"
            [[tokenizer]]
            kind = "b"
            inline = { k = 1, j = "s" }
            """)
        XCTAssertEqual(doc["name"]?.value, .string("a \"q\" b"))
        XCTAssertEqual(doc["name"]?.line, 2)
        XCTAssertEqual(doc["n"]?.value, .integer(1000))
        XCTAssertEqual(doc["x"]?.value, .float(-3e-4))
        XCTAssertEqual(doc["lit"]?.value, .string("C:\\path"))
        XCTAssertEqual(doc["ok"]?.value, .boolean(true))
        guard case .array(let l)? = doc["list"]?.value else { return XCTFail() }
        XCTAssertEqual(l.map(\.value), [.integer(1), .integer(2), .integer(3)])
        XCTAssertEqual(l.map(\.line), [7, 7, 8])
        guard case .table(let ds)? = doc["dataset"]?.value else { return XCTFail() }
        XCTAssertEqual(ds["kind"]?.line, 10)
        guard case .array(let toks)? = doc["tokenizer"]?.value, toks.count == 2, case .table(let t1) = toks[1].value else { return XCTFail() }
        XCTAssertEqual(t1["kind"]?.value, .string("b"))
        XCTAssertEqual(t1["kind"]?.line, 14)
        guard case .table(let inl)? = t1["inline"]?.value else { return XCTFail() }
        XCTAssertEqual(inl["j"]?.value, .string("s"))
    }

    /// [tokenizer.args] after each [[tokenizer]] belongs to that element (not "defined twice");
    /// twice under the same element is still an error.
    func testSubTablesOfEachArrayElement() throws {
        let doc = try TOMLParser.parse("[[tokenizer]]\nkind = \"a\"\n[tokenizer.args]\nx = 1\n[[tokenizer]]\nkind = \"b\"\n[tokenizer.args]\nx = 2\n")
        guard case .array(let toks)? = doc["tokenizer"]?.value, toks.count == 2 else { return XCTFail() }
        let xs = toks.map { t -> TOMLValue? in
            guard case .table(let tt) = t.value, case .table(let args)? = tt["args"]?.value else { return nil }
            return args["x"]?.value
        }
        XCTAssertEqual(xs, [.integer(1), .integer(2)])
        XCTAssertThrowsError(try TOMLParser.parse("[[tokenizer]]\n[tokenizer.args]\nx = 1\n[tokenizer.args]\ny = 2\n")) { e in
            XCTAssertTrue(String(describing: e).contains("defined twice"), "\(e)")
        }
    }

    func testDottedKeysAndHeaders() throws {
        let doc = try TOMLParser.parse("a.b = 1\n[c.d]\ne = 2\n")
        guard case .table(let a)? = doc["a"]?.value, case .table(let c)? = doc["c"]?.value, case .table(let d)? = c["d"]?.value else { return XCTFail() }
        XCTAssertEqual(a["b"]?.value, .integer(1))
        XCTAssertEqual(d["e"]?.value, .integer(2))
    }

    func testSyntaxErrorsNameTheLine() {
        let cases: [(String, Int, String)] = [
            ("a = 1\nb = \n", 2, "expected a value"),
            ("a = 1\na = 2\n", 2, "duplicate key"),
            ("a = \"open\n", 1, "unterminated string"),
            ("x = 1\ny = hello\n", 2, "strings need quotes"),
            ("[t]\n[t]\n", 2, "defined twice"),
            ("a = 1 2\n", 1, "unexpected text"),
            ("a = [1, 2\n", 2, "expected , or ]"),
        ]
        for (text, line, fragment) in cases {
            XCTAssertThrowsError(try TOMLParser.parse(text)) { e in
                let t = e as! TOMLError
                XCTAssertEqual(t.line, line, text)
                XCTAssertTrue(t.message.contains(fragment), "\(text): \(t.message)")
            }
        }
    }
}
