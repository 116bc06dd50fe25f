import XCTest
import Foundation
@testable import Datasets

/// The chunked sources against the whole-file readers: the memory-mapped .npy equals `ImageBatch(hwc:)`,
/// the file list equals `readImageFiles`, whatever the chunks; bad files are one-line errors naming them.
final class ImageSourceTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "tokbench-sources-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testMappedNPYEqualsTheWholeArrayInAnyChunks() throws {
        let hwc = (0..<(5 * 4 * 6 * 3)).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }
        let path = dir + "/a.npy"
        try Data(encodeNPY(uint8: hwc, shape: [5, 4, 6, 3])).write(to: URL(fileURLWithPath: path))
        let whole = try ImageBatch(hwc: try readNPYFile(path: path), path: path, name: "a.npy")
        let source = try NPYImageSource(path: path)
        XCTAssertEqual([source.count, source.channels, source.height, source.width], [5, 3, 4, 6])
        XCTAssertEqual(try source.read(0..<5), whole)
        XCTAssertEqual(ImageBatch.concatenate([try source.read(0..<2), try source.read(2..<3), try source.read(3..<5)]), whole)
        // Gray [N, H, W] is one channel.
        try Data(encodeNPY(uint8: Array(hwc.prefix(40)), shape: [2, 4, 5])).write(to: URL(fileURLWithPath: dir + "/g.npy"))
        XCTAssertEqual(try NPYImageSource(path: dir + "/g.npy").read(1..<2).pixels, Array(hwc[20..<40]))
    }

    func testMappedNPYRefusesWhatItCannotRead() throws {
        try Data(encodeNPY(uint8: [1, 2, 3, 4], shape: [4])).write(to: URL(fileURLWithPath: dir + "/flat.npy"))
        XCTAssertThrowsError(try NPYImageSource(path: dir + "/flat.npy")) { XCTAssertTrue("\($0)".contains("expected uint8 images [N, H, W, C]"), "\($0)") }
        var short = encodeNPY(uint8: [UInt8](repeating: 0, count: 2 * 2 * 2 * 3), shape: [2, 2, 2, 3]); short.removeLast(5)
        try Data(short).write(to: URL(fileURLWithPath: dir + "/short.npy"))
        XCTAssertThrowsError(try NPYImageSource(path: dir + "/short.npy")) { XCTAssertTrue("\($0)".contains("holds 19 data bytes"), "\($0)") }
        try Data("not an array".utf8).write(to: URL(fileURLWithPath: dir + "/junk.npy"))
        XCTAssertThrowsError(try NPYImageSource(path: dir + "/junk.npy")) { XCTAssertTrue("\($0)".contains("junk.npy"), "\($0)") }
    }

    func testFileSourceEqualsReadImageFiles() throws {
        var files: [String] = []
        for i in 0..<5 {   // sizes differ: the conforming source crops and resizes each like readImageFiles
            let w = 10 + i, h = 8 + 2 * i
            let b = ImageBatch(count: 1, channels: 3, height: h, width: w, pixels: (0..<(3 * h * w)).map { UInt8(truncatingIfNeeded: $0 * 13 + i) })
            let f = dir + "/im\(i).png"
            try Data(encodePNG(b)).write(to: URL(fileURLWithPath: f)); files.append(f)
        }
        let source = try ImageFileSource(files: files, conformingTo: 8, channels: 1)
        let whole = try readImageFiles(files, side: 8, channels: 1)
        XCTAssertEqual(ImageBatch.concatenate([try source.read(0..<3), try source.read(3..<5)]), whole)
        // The exact-size source refuses another size, from the header, naming the file.
        let exact = try ImageFileSource(files: files)
        XCTAssertThrowsError(try exact.checkHeaders()) { XCTAssertTrue("\($0)".contains("im1.png: is 11x10, expected 10x8"), "\($0)") }
        XCTAssertThrowsError(try exact.read(0..<2)) { XCTAssertTrue("\($0)".contains("im1.png"), "\($0)") }
        XCTAssertEqual(try exact.read(0..<1), try readImage(path: files[0]))
        // A batch by index, repeats included, is those images of the whole.
        XCTAssertEqual(try source.gather([4, 0, 4, 2]), whole.subset([4, 0, 4, 2]))
        XCTAssertTrue(try source.checkHeaders() == ())   // conforming: any size within the pixel cap
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: dir + "/bad.png"))
        let bad = try ImageFileSource(files: files + [dir + "/bad.png"], conformingTo: 8, channels: 1)
        XCTAssertThrowsError(try bad.checkHeaders()) { XCTAssertTrue("\($0)".contains("bad.png"), "\($0)") }
    }

    /// Counts what the cache asks its base for.
    final class CountingSource: ImageSource, @unchecked Sendable {
        let whole: ImageBatch
        var asked: [[Int]] = []
        init(_ whole: ImageBatch) { self.whole = whole }
        var count: Int { whole.count }; var channels: Int { whole.channels }; var height: Int { whole.height }; var width: Int { whole.width }
        func read(_ range: Range<Int>) throws -> ImageBatch { try gather(Array(range)) }
        func gather(_ indices: [Int]) throws -> ImageBatch { asked.append(indices); return whole.subset(indices) }
    }

    func testDecodeCacheIsBoundedAndNeverChangesABatch() throws {
        let whole = ImageBatch(count: 20, channels: 3, height: 4, width: 4, pixels: (0..<(20 * 48)).map { UInt8(truncatingIfNeeded: $0 * 31 + 7) })
        let base = CountingSource(whole)
        let cache = CachedImageSource(base, budgetBytes: 5 * 48 + 47)      // room for 5 images
        XCTAssertEqual(cache.capacity, 5)
        var rng = UInt64(1)
        for _ in 0..<50 {
            let batch = (0..<4).map { _ -> Int in rng = rng &* 6364136223846793005 &+ 1442695040888963407; return Int(rng >> 33) % 20 }
            XCTAssertEqual(try cache.gather(batch), whole.subset(batch))
            XCTAssertLessThanOrEqual(cache.storage.count, 5 * 48)
        }
        XCTAssertGreaterThan(cache.decoded, 20)                              // images were evicted and decoded again
        XCTAssertEqual(cache.decoded, base.asked.reduce(0) { $0 + $1.count })
        XCTAssertTrue(base.asked.allSatisfy { Set($0).count == $0.count })  // a repeat in a batch is decoded once
        // A split that fits is decoded once, whatever is drawn.
        let all = CachedImageSource(CountingSource(whole))
        XCTAssertEqual(all.capacity, 20)
        for k in 0..<10 { XCTAssertEqual(try all.read((k % 4)..<(k % 4 + 17)), whole.slice((k % 4)..<(k % 4 + 17))) }
        XCTAssertEqual(all.decoded, 20)
    }

    func testDecodeCacheGivesARecentlyUsedImageASecondChance() throws {
        let whole = ImageBatch(count: 3, channels: 1, height: 2, width: 2, pixels: Array(0..<12))
        let cache = CachedImageSource(CountingSource(whole), budgetBytes: 2 * 4)   // 2 images
        _ = try cache.gather([0, 1]); _ = try cache.gather([0])                     // 0 used again
        _ = try cache.gather([2])                                                   // evicts 1, not 0
        XCTAssertEqual(cache.decoded, 3)
        _ = try cache.gather([0]); XCTAssertEqual(cache.decoded, 3)
        _ = try cache.gather([1]); XCTAssertEqual(cache.decoded, 4)
    }
}
