import Foundation
import XCTest
@testable import Datasets

/// JPEG, CIFAR-10, npz and photos-dataset loaders. Fixture contents are written by
/// Tests/DatasetsTests/Fixtures/make_loader_fixtures.py (committed; tests never run it).
final class LoaderTests: XCTestCase {
    func fixture(_ name: String) -> String { Bundle.module.path(forResource: "Fixtures/" + name, ofType: nil)! }

    func assertOneLineError(_ e: Error, naming file: String, contains: [String] = [], line: UInt = #line) {
        let msg = String(describing: e)
        XCTAssertTrue(e is DatasetError, "not a DatasetError: \(msg)", line: line)
        XCTAssertTrue(msg.contains(file), "error does not name \(file): \(msg)", line: line)
        XCTAssertFalse(msg.contains("\n"), "multi-line error: \(msg)", line: line)
        for s in contains { XCTAssertTrue(msg.contains(s), "error lacks '\(s)': \(msg)", line: line) }
    }

    // MARK: JPEG

    let rgbBlocks: [[[Int]]] = [[[200, 30, 40], [20, 180, 60], [40, 60, 220]],
                                [[250, 250, 250], [10, 10, 10], [128, 200, 90]]]
    let grayBlocks: [[Int]] = [[0, 90, 255], [180, 40, 128]]
    let cmykInk: [[[Int]]] = [[[0, 200, 200, 30], [180, 0, 160, 0], [200, 160, 0, 40]],
                              [[0, 0, 0, 0], [0, 0, 0, 230], [100, 20, 150, 50]]]

    /// Every pixel inside each flat block (a 2-pixel border left out: chroma upsampling blends
    /// neighbours there) is within ±3 of the block's colour.
    func checkBlocks(_ img: ImageBatch, block bs: Int, _ expected: (Int, Int, Int) -> Int, line: UInt = #line) {
        var worst = 0
        for c in 0..<img.channels {
            for y in 0..<img.height where y % bs >= 2 && y % bs < bs - 2 {
                for x in 0..<img.width where x % bs >= 2 && x % bs < bs - 2 {
                    let v = Int(img.pixels[(c * img.height + y) * img.width + x])
                    worst = max(worst, abs(v - expected(c, x / bs, y / bs)))
                }
            }
        }
        XCTAssertLessThanOrEqual(worst, 3, "largest deviation from the flat blocks", line: line)
    }

    func testJPEGRGBBaselineAndProgressive() throws {
        for name in ["rgb_baseline.jpg", "rgb_progressive.jpg"] {
            let img = try readJPEG(path: fixture(name))
            XCTAssertEqual([img.count, img.channels, img.height, img.width], [1, 3, 32, 48], name)
            checkBlocks(img, block: 16) { c, bx, by in self.rgbBlocks[by][bx][c] }
        }
    }

    func testJPEGGrayIsOneChannel() throws {
        let img = try readJPEG(path: fixture("gray.jpg"))
        XCTAssertEqual([img.count, img.channels, img.height, img.width], [1, 1, 16, 24])
        checkBlocks(img, block: 8) { _, bx, by in self.grayBlocks[by][bx] }
    }

    func testJPEGAdobeCMYKBecomesRGB() throws {
        // Pillow writes Adobe (inverted) CMYK; RGB = (255 − C)(255 − K)/255 per channel.
        let img = try readJPEG(path: fixture("cmyk.jpg"))
        XCTAssertEqual([img.count, img.channels, img.height, img.width], [1, 3, 32, 48])
        checkBlocks(img, block: 16) { c, bx, by in
            let ink = self.cmykInk[by][bx]
            return Int(((255 - Double(ink[c])) * (255 - Double(ink[3])) / 255).rounded())
        }
        // Without the Adobe marker the stored (inverted) values are read as plain CMYK.
        let plain = try readJPEG(path: fixture("cmyk_no_adobe.jpg"))
        checkBlocks(plain, block: 16) { c, bx, by in
            let ink = self.cmykInk[by][bx]
            return Int((Double(ink[c]) * Double(ink[3]) / 255).rounded())
        }
    }

    func testCorruptJPEGIsAnErrorNamingTheFile() throws {
        XCTAssertThrowsError(try readJPEG(path: fixture("truncated.jpg"))) { e in
            self.assertOneLineError(e, naming: "truncated.jpg", contains: ["JPEG", "Premature end"])
        }
        XCTAssertThrowsError(try readJPEG(path: fixture("not_a_png.png"))) { e in
            self.assertOneLineError(e, naming: "not_a_png.png", contains: ["not a JPEG"])
        }
        // Garbage after a valid header: the decoder must fail cleanly, not crash.
        var bytes = try readFileBytes(fixture("rgb_baseline.jpg"))
        for i in (bytes.count / 2)..<(bytes.count - 2) { bytes[i] = UInt8(truncatingIfNeeded: i &* 151) }
        XCTAssertThrowsError(try decodeJPEG(bytes, path: "mangled.jpg")) { e in
            self.assertOneLineError(e, naming: "mangled.jpg")
        }
        let good = try readFileBytes(fixture("rgb_baseline.jpg"))
        XCTAssertThrowsError(try decodeJPEG(Array(good.prefix(good.count / 3)), path: "headers-cut.jpg")) { e in
            self.assertOneLineError(e, naming: "headers-cut.jpg")
        }
        XCTAssertThrowsError(try decodeJPEG([0xFF, 0xD8, 0xFF], path: "stub.jpg")) { e in
            self.assertOneLineError(e, naming: "stub.jpg")
        }
    }

    func testReadImageDispatchesOnMagicBytes() throws {
        XCTAssertEqual(try readImage(path: fixture("gray.jpg")), try readJPEG(path: fixture("gray.jpg")))
        XCTAssertEqual(try readImage(path: fixture("rgb8.png")), try readPNG(path: fixture("rgb8.png")))
        XCTAssertThrowsError(try readImage(path: fixture("not_a_png.png"))) { e in
            self.assertOneLineError(e, naming: "not_a_png.png", contains: ["not a PNG or JPEG", "74 68 69 73"])
        }
    }

    // MARK: CIFAR-10

    func testCIFARRecordLayout() throws {
        let (images, labels) = try readCIFAR10Batch(path: fixture("tiny_cifar.bin"))
        XCTAssertEqual([images.count, images.channels, images.height, images.width], [3, 3, 32, 32])
        XCTAssertEqual(labels, [3, 7, 9])
        // Record 2 (r = 2): R plane (100 + p) % 256, G (101 + 2p) % 256, B (102 + 3p) % 256.
        let base = 2 * 3072
        XCTAssertEqual(Array(images.pixels[base..<(base + 3)]), [100, 101, 102])                 // R, row 0
        XCTAssertEqual(Array(images.pixels[(base + 1024)..<(base + 1027)]), [101, 103, 105])     // G
        XCTAssertEqual(Array(images.pixels[(base + 2048)..<(base + 2051)]), [102, 105, 108])     // B
        let p57: Int = 32 * 5 + 7                                                                  // y 5, x 7
        XCTAssertEqual(images.pixels[base + 1024 + p57], UInt8((101 + 2 * p57) % 256))
    }

    func testTruncatedCIFARIsAnError() {
        XCTAssertThrowsError(try readCIFAR10Batch(path: fixture("truncated_cifar.bin"))) { e in
            self.assertOneLineError(e, naming: "truncated_cifar.bin", contains: ["9119", "3073"])
        }
        XCTAssertThrowsError(try parseCIFAR10Batch([10] + [UInt8](repeating: 0, count: 3072), path: "badlabel.bin")) { e in
            self.assertOneLineError(e, naming: "badlabel.bin", contains: ["label 10"])
        }
    }

    // MARK: npz

    func expectedImageNetValue(_ n: Int, _ c: Int, _ y: Int, _ x: Int) -> UInt8 { UInt8((n * 37 + c * 80 + y * 3 + x) % 256) }

    func testNPZStoredAndCompressedBothRead() throws {
        // zip64_fields.npz: sizes/offsets in zip64 extra fields, a zip64 end record, .npy version 2.
        for name in ["tiny_imagenet64.npz", "tiny_imagenet64_compressed.npz", "zip64_fields.npz"] {
            XCTAssertEqual(Set(try npzKeys(path: fixture(name))), ["data", "labels"], name)
            let (shape, bytes) = try readNPZArray(path: fixture(name), key: "data")
            XCTAssertEqual(shape, [2, 12288], name)
            XCTAssertEqual(bytes.count, 2 * 12288, name)
            let img = try readImageNetNPZ(path: fixture(name), resolution: 64)
            XCTAssertEqual([img.count, img.channels, img.height, img.width], [2, 3, 64, 64], name)
            for (n, c, y, x) in [(0, 0, 0, 0), (1, 2, 63, 63), (1, 1, 10, 20), (0, 2, 5, 1)] {
                XCTAssertEqual(img.pixels[((n * 3 + c) * 64 + y) * 64 + x], expectedImageNetValue(n, c, y, x), "\(name) n\(n) c\(c) y\(y) x\(x)")
            }
        }
    }

    func testNPZErrors() {
        XCTAssertThrowsError(try readImageNetNPZ(path: fixture("no_data_key.npz"))) { e in
            self.assertOneLineError(e, naming: "no_data_key.npz", contains: ["'data'", "images, labels"])
        }
        XCTAssertThrowsError(try readNPZArray(path: fixture("tiny_imagenet64.npz"), key: "labels")) { e in
            self.assertOneLineError(e, naming: "tiny_imagenet64.npz", contains: ["'<i8'"])  // int64 is not uint8
        }
        XCTAssertThrowsError(try readImageNetNPZ(path: fixture("float_data.npz"))) { e in
            self.assertOneLineError(e, naming: "float_data.npz", contains: ["'<f4'"])
        }
        XCTAssertThrowsError(try readImageNetNPZ(path: fixture("tiny_imagenet64.npz"), resolution: 32)) { e in
            self.assertOneLineError(e, naming: "tiny_imagenet64.npz", contains: ["(2, 12288)", "3072"])
        }
        XCTAssertThrowsError(try readImageNetNPZ(path: fixture("corrupt.npz"))) { e in
            self.assertOneLineError(e, naming: "corrupt.npz", contains: ["corrupt"])
        }
        XCTAssertThrowsError(try readImageNetNPZ(path: fixture("tiny_cifar.bin"))) { e in
            self.assertOneLineError(e, naming: "tiny_cifar.bin", contains: ["not an npz"])
        }
        // Truncated archive: the end of central directory is gone.
        let bytes = (try? readFileBytes(fixture("tiny_imagenet64.npz"))) ?? []
        let tmp = NSTemporaryDirectory() + "loadertests-truncated-\(getpid()).npz"
        _ = FileManager.default.createFile(atPath: tmp, contents: Data(bytes.prefix(bytes.count / 2)))
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        XCTAssertThrowsError(try readImageNetNPZ(path: tmp)) { e in self.assertOneLineError(e, naming: tmp, contains: ["truncated"]) }
        // A flipped byte inside a stored entry: only the CRC can tell.
        var flipped = bytes
        flipped[5000] ^= 0x01
        _ = FileManager.default.createFile(atPath: tmp, contents: Data(flipped))
        XCTAssertThrowsError(try readImageNetNPZ(path: tmp)) { e in self.assertOneLineError(e, naming: tmp, contains: ["CRC"]) }
    }

    func npy(version: UInt8, header: String, payload: [UInt8]) -> [UInt8] {
        let h = Array(header.utf8)
        var b: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
        let lenBytes = version == 1 ? 2 : 4
        for k in 0..<lenBytes { b.append(UInt8(truncatingIfNeeded: h.count >> (8 * k))) }
        return b + h + payload
    }

    func testNPYHeaderVersionsAndDict() throws {
        for v: UInt8 in [1, 2, 3] {
            let b = npy(version: v, header: "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }      \n", payload: Array(0..<6))
            let h = try parseNPYHeader(b, path: "x.npz", name: "a.npy")
            XCTAssertEqual(h.shape, [2, 3]); XCTAssertEqual(h.descr, "|u1"); XCTAssertFalse(h.fortranOrder)
            XCTAssertEqual(Array(b[h.dataOffset...]), Array(0..<6))
        }
        let one = try parseNPYHeader(npy(version: 1, header: "{\"shape\": (7,), \"fortran_order\": True, \"descr\": \"<u1\"}", payload: []), path: "x", name: "a")
        XCTAssertEqual(one.shape, [7]); XCTAssertTrue(one.isUInt8); XCTAssertEqual(try one.elementCount(path: "x", name: "a"), 7)
        XCTAssertThrowsError(try parseNPYHeader(npy(version: 4, header: "{}", payload: []), path: "x.npz", name: "a.npy"))
        XCTAssertThrowsError(try parseNPYHeader(npy(version: 1, header: "{'descr': '|u1', 'shape': (2, 3)}", payload: []), path: "x.npz", name: "a.npy")) { e in
            self.assertOneLineError(e, naming: "x.npz", contains: ["fortran_order"])
        }
        let fortran = try parseNPYHeader(npy(version: 1, header: "{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3)}", payload: []), path: "x", name: "a")
        XCTAssertThrowsError(try fortran.elementCount(path: "x", name: "a"))
    }

    // MARK: photos

    func testBoxDownsampleHandMade() {
        // 1 channel 5×7 (H×W), factor 2 → 2×3; last row and column dropped; means rounded half up.
        let px: [UInt8] = [0, 2, 10, 10, 1, 1, 99,
                           4, 6, 10, 11, 1, 2, 99,
                           100, 100, 0, 0, 255, 255, 99,
                           100, 101, 0, 1, 255, 254, 99,
                           99, 99, 99, 99, 99, 99, 99]
        let img = ImageBatch(count: 1, channels: 1, height: 5, width: 7, pixels: px)
        let d = boxDownsample(img, factor: 2)
        XCTAssertEqual([d.count, d.channels, d.height, d.width], [1, 1, 2, 3])
        // 12/4 = 3, 41/4 = 10.25 → 10, 5/4 = 1.25 → 1; 401/4 = 100.25 → 100, 1/4 → 0, 1019/4 = 254.75 → 255
        XCTAssertEqual(d.pixels, [3, 10, 1, 100, 0, 255])
        // Half rounds up: [1, 2, 1, 2] → 1.5 → 2. Channels and images are independent planes.
        let two = ImageBatch(count: 2, channels: 2, height: 2, width: 2, pixels: [1, 2, 1, 2, 0, 0, 0, 4, 8, 8, 8, 8, 255, 255, 255, 254])
        XCTAssertEqual(boxDownsample(two, factor: 2).pixels, [2, 1, 8, 255])
        XCTAssertEqual(boxDownsample(img, factor: 1), img)
    }

    func testCutTilesCentresTheGrid() {
        // 3 channels 6×9 (H×W), tile 4 → 1×2 tiles; the grid is centred: y0 = (6 − 4)/2 = 1, x0 = (9 − 8)/2 = 0.
        let h = 6, w = 9
        let img = ImageBatch(count: 1, channels: 3, height: h, width: w,
                             pixels: (0..<(3 * h * w)).map { UInt8($0 % 256) })
        let t = cutTiles(img, tile: 4)
        XCTAssertEqual([t.count, t.channels, t.height, t.width], [2, 3, 4, 4])
        // tile 1 (tx = 1), channel 2, row 0, col 0 = source (c 2, y 1, x 4)
        XCTAssertEqual(t.pixels[1 * 48 + 2 * 16 + 0], UInt8((2 * h * w + 1 * w + 4) % 256))
        // tile 0, channel 0, row 3, col 3 = source (c 0, y 4, x 3)
        XCTAssertEqual(t.pixels[0 * 48 + 0 * 16 + 3 * 4 + 3], UInt8(4 * w + 3))
        XCTAssertEqual(cutTiles(ImageBatch(count: 1, channels: 3, height: 3, width: 9), tile: 4).count, 0)
    }

    /// Synthetic photos: photo k's tiles are filled with the value k (+ tile index in pixel 0).
    func syntheticPhotos(_ n: Int, tile: Int = 4) -> [PhotoTiles] {
        (0..<n).map { k in
            let count = 1 + k % 4
            var b = ImageBatch(count: count, channels: 3, height: tile, width: tile,
                               pixels: [UInt8](repeating: UInt8(k), count: count * 3 * tile * tile))
            for i in 0..<count { b.pixels[i * b.bytesPerImage] = UInt8(100 + i) }
            return ("photo\(k).jpg", b)
        }
    }

    func photosIn(_ b: ImageBatch) -> Set<UInt8> { Set((0..<b.count).map { b.pixels[$0 * b.bytesPerImage + 1] }) }

    func testSplitIsByPhotoNeverByTile() throws {
        let photos = syntheticPhotos(10)
        let totalTiles = photos.reduce(0) { $0 + $1.tiles.count }
        var evalSets = Set<Set<UInt8>>()
        for seed in UInt64(0)..<20 {
            let s = try PhotoSet.split(photos, evalPhotos: 3, seed: seed)
            let trainIds = photosIn(s.train), evalIds = photosIn(s.eval)
            XCTAssertTrue(trainIds.isDisjoint(with: evalIds), "seed \(seed): a photo on both sides")
            XCTAssertEqual(evalIds.count, 3)
            XCTAssertEqual(trainIds.union(evalIds), Set((0..<10).map(UInt8.init)))
            XCTAssertEqual(s.train.count + s.eval.count, totalTiles)
            XCTAssertEqual(Set(s.trainSources).intersection(s.evalSources), [])
            XCTAssertEqual(Set(s.evalSources), Set(evalIds.map { "photo\($0).jpg" }))
            // every tile of an eval photo is in eval
            XCTAssertEqual(s.eval.count, photos.filter { s.evalSources.contains($0.source) }.reduce(0) { $0 + $1.tiles.count })
            evalSets.insert(evalIds)
        }
        XCTAssertGreaterThan(evalSets.count, 5, "the seed should change which photos are eval")
        XCTAssertEqual(try PhotoSet.split(photos, evalPhotos: 3, seed: 4).evalSources, try PhotoSet.split(photos, evalPhotos: 3, seed: 4).evalSources)
        XCTAssertThrowsError(try PhotoSet.split(photos, evalPhotos: 10, seed: 0))
        XCTAssertThrowsError(try PhotoSet.split(photos, evalPhotos: 0, seed: 0))
    }

    func testTileCacheRoundTrip() throws {
        let photos = syntheticPhotos(5, tile: 8)
        let dir = NSTemporaryDirectory() + "loadertests-cache-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = PhotoSet.cacheFile(cacheDir: dir, tile: 8)
        try PhotoSet.writeCache(photos, tile: 8, signature: "test", to: path)
        let back = try PhotoSet.loadCache(path: path)
        XCTAssertEqual(back.map(\.source), photos.map(\.source))
        XCTAssertEqual(back.map(\.tiles), photos.map(\.tiles))
        XCTAssertEqual(try PhotoSet.readCacheHeader(path: path).signature, "test")
        // A damaged cache is a clear error, not garbage tiles.
        let bytes = try readFileBytes(path)
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes.dropLast(10)))
        XCTAssertThrowsError(try PhotoSet.loadCache(path: path)) { e in self.assertOneLineError(e, naming: path, contains: ["delete it"]) }
    }

    func testBuildTilesFromJPEGFiles() throws {
        // Tile 8: the 48×32 RGB fixture → auto factor max(2, round(32 / 48)) = 2 → 24×16 → 3×2 = 6
        // tiles; the gray fixture (24×16) → 12×8 → 1 tile, replicated to RGB. Factor 4 leaves the
        // gray one (6×4) without a tile, so it is dropped.
        let files = [fixture("rgb_baseline.jpg"), fixture("gray.jpg")]
        let p = try PhotoSet.buildTiles(tile: 8, files: files)
        XCTAssertEqual(p.map(\.source), files)
        XCTAssertEqual(p.map(\.tiles.count), [6, 1])
        XCTAssertEqual(p[1].tiles.channels, 3)
        XCTAssertEqual(try PhotoSet.buildTiles(tile: 8, downsample: 4, files: files).map(\.tiles.count), [1])  // 12×8 → 1×1
        // Tile 0 of the RGB photo is the 8×8 mean of block (0, 0): (200, 30, 40) ± 3.
        let t0 = p[0].tiles
        for c in 0..<3 { XCTAssertEqual(Double(t0.pixels[c * 64 + 3 * 8 + 3]), Double(rgbBlocks[0][0][c]), accuracy: 3) }
        XCTAssertEqual(PhotoSet.autoDownsample(shortSide: 1600, tile: 64), 4)    // 4.17
        XCTAssertEqual(PhotoSet.autoDownsample(shortSide: 1600, tile: 128), 2)   // 2.08
        XCTAssertEqual(PhotoSet.autoDownsample(shortSide: 1024, tile: 128), 2)   // 1.33, but never below 2
        XCTAssertEqual(PhotoSet.autoDownsample(shortSide: 2880, tile: 128), 4)   // 3.75
        XCTAssertEqual(PhotoSet.displayName("/usr/share/wallpapers/Volna/contents/images/5120x2880.jpg"), "Volna")
        XCTAssertEqual(PhotoSet.displayName("/usr/share/backgrounds/mate/nature/Storm.jpg"), "Storm")
    }
}
