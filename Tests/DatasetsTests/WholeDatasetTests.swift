import Foundation
import XCTest
import CZlib
@testable import Datasets

/// Whole-dataset loading on small datasets generated in a temporary folder with the real
/// layouts: ImageNet-64 npz batches, CIFAR-10 binary batches, and the photos tile pipeline.
/// Every image carries markers (which file, which record) so order and layout are checked.
final class WholeDatasetTests: XCTestCase {
    var tmp = ""

    override func setUpWithError() throws {
        tmp = (NSTemporaryDirectory() as NSString).appendingPathComponent("wholedataset-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: tmp)
    }

    func path(_ parts: String...) -> String {
        parts.reduce(tmp) { ($0 as NSString).appendingPathComponent($1) }
    }

    func write(_ bytes: [UInt8], to file: String) throws {
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
    }

    // MARK: npz writer (np.savez layout: a zip of stored .npy entries)

    struct ByteWriter {
        var bytes: [UInt8] = []
        mutating func u16(_ v: Int) { bytes.append(UInt8(v & 0xFF)); bytes.append(UInt8((v >> 8) & 0xFF)) }
        mutating func u32(_ v: Int) { u16(v & 0xFFFF); u16((v >> 16) & 0xFFFF) }
        mutating func raw(_ b: [UInt8]) { bytes += b }
    }

    static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    /// An .npy file, format version 1.0, header padded to 64 bytes as NumPy does.
    static func npy(descr: String, shape: [Int], _ payload: [UInt8], fortran: Bool = false) -> [UInt8] {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(dims), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var w = ByteWriter()
        w.raw([0x93] + Array("NUMPY".utf8) + [1, 0])
        w.u16(header.utf8.count)
        w.raw(Array(header.utf8))
        w.raw(payload)
        return w.bytes
    }

    /// Raw deflate (RFC 1951, no zlib header), as np.savez_compressed's zip entries hold.
    static func rawDeflate(_ data: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        precondition(deflateInit2_(&stream, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK)
        defer { deflateEnd(&stream) }
        var input = data, out = [UInt8](repeating: 0, count: data.count + data.count / 100 + 1024)
        let n = input.withUnsafeMutableBufferPointer { inp in
            out.withUnsafeMutableBufferPointer { o -> Int in
                stream.next_in = inp.baseAddress; stream.avail_in = uInt(inp.count)
                stream.next_out = o.baseAddress; stream.avail_out = uInt(o.count)
                precondition(deflate(&stream, Z_FINISH) == Z_STREAM_END)
                return o.count - Int(stream.avail_out)
            }
        }
        return Array(out.prefix(n))
    }

    /// A zip archive of entries with CRCs: stored (uncompressed, np.savez) or deflated (np.savez_compressed).
    static func zip(_ entries: [(name: String, data: [UInt8])], deflated: Bool = false) -> [UInt8] {
        var w = ByteWriter(), central = ByteWriter()
        for e in entries {
            let name = Array(e.name.utf8), crc = Int(crc32(e.data)), offset = w.bytes.count
            let body = deflated ? rawDeflate(e.data) : e.data, method = deflated ? 8 : 0
            w.u32(0x0403_4B50); w.u16(20); w.u16(0); w.u16(method); w.u16(0); w.u16(0x21)
            w.u32(crc); w.u32(body.count); w.u32(e.data.count); w.u16(name.count); w.u16(0)
            w.raw(name); w.raw(body)
            central.u32(0x0201_4B50); central.u16(20); central.u16(20); central.u16(0); central.u16(method); central.u16(0); central.u16(0x21)
            central.u32(crc); central.u32(body.count); central.u32(e.data.count); central.u16(name.count)
            central.u16(0); central.u16(0); central.u16(0); central.u16(0); central.u32(0); central.u32(offset)
            central.raw(name)
        }
        let centralOffset = w.bytes.count
        w.raw(central.bytes)
        w.u32(0x0605_4B50); w.u16(0); w.u16(0); w.u16(entries.count); w.u16(entries.count)
        w.u32(central.bytes.count); w.u32(centralOffset); w.u16(0)
        return w.bytes
    }

    /// An ImageNet npz: 'data' [N, 3·r·r] uint8 (channel-planar images) and 'labels' [N] int64.
    static func imagenetNPZ(_ images: [[UInt8]], resolution r: Int, deflated: Bool = false, fortran: Bool = false) -> [UInt8] {
        var labels: [UInt8] = []
        for i in 0..<images.count { labels += [UInt8(i % 256)] + [UInt8](repeating: 0, count: 7) }
        return zip([("labels.npy", npy(descr: "<i8", shape: [images.count], labels)),
                    ("data.npy", npy(descr: "|u1", shape: [images.count, 3 * r * r], images.flatMap { $0 }, fortran: fortran))], deflated: deflated)
    }

    /// A stored npz is read image by image from the file (NPZImageSource) and gives exactly the bytes of
    /// the whole-array reader, by range and by scattered index, across batches (ConcatenatedImages) and in
    /// a seeded subset (SubsetImages = ImageBatch.seededSubset); a deflated one is not streamed (nil), and
    /// loads whole to the same images; a Fortran-order array is refused on both paths; a file cut short after
    /// it was opened is a one-line error naming it.
    func testStoredNPZStreamsTheWholeReadersBytes() throws {
        let r = 8, per = 3 * r * r
        let images = (0..<7).map { k in (0..<per).map { UInt8(truncatingIfNeeded: $0 * 7 + k * 31) } }
        let stored = path("stored.npz"), deflated = path("deflated.npz"), other = path("other.npz")
        try write(Self.imagenetNPZ(images, resolution: r), to: stored)
        try write(Self.imagenetNPZ(images, resolution: r, deflated: true), to: deflated)
        try write(Self.imagenetNPZ(Array(images.prefix(3).reversed()), resolution: r), to: other)
        let whole = try readImageNetNPZ(path: stored, resolution: r)
        XCTAssertEqual(try readImageNetNPZ(path: deflated, resolution: r).pixels, whole.pixels)
        XCTAssertNil(try NPZImageSource.open(path: deflated, resolution: r))
        let s = try XCTUnwrap(try NPZImageSource.open(path: stored, resolution: r))
        XCTAssertEqual([s.count, s.channels, s.height, s.width], [7, 3, r, r])
        XCTAssertEqual(try s.read(0..<7).pixels, whole.pixels)
        XCTAssertEqual(try s.read(2..<5).pixels, whole.slice(2..<5).pixels)
        XCTAssertEqual(try s.gather([6, 0, 3, 3]).pixels, whole.subset([6, 0, 3, 3]).pixels)
        // Two batches one after another: ranges across the seam, indices out of order across both.
        let o = try XCTUnwrap(try NPZImageSource.open(path: other, resolution: r))
        let both = ConcatenatedImages([s, o]), bothWhole = ImageBatch.concatenate([whole, try readImageNetNPZ(path: other, resolution: r)])
        XCTAssertEqual(both.count, 10)
        XCTAssertEqual(try both.read(5..<9).pixels, bothWhole.slice(5..<9).pixels)
        XCTAssertEqual(try both.gather([9, 1, 7, 6, 0]).pixels, bothWhole.subset([9, 1, 7, 6, 0]).pixels)
        let sub = SubsetImages.seeded(both, 4, seed: 5)
        XCTAssertEqual(try sub.read(0..<4).pixels, bothWhole.seededSubset(4, seed: 5).pixels)
        XCTAssertEqual(try sub.gather([3, 1]).pixels, bothWhole.seededSubset(4, seed: 5).subset([3, 1]).pixels)
        // A wrong resolution is refused at open, naming the file and the shape.
        XCTAssertThrowsError(try NPZImageSource.open(path: stored, resolution: 4)) { XCTAssertTrue("\($0)".contains("stored.npz") && "\($0)".contains("(7, 192)"), "\($0)") }
        // A Fortran-order 'data' array is refused by the same check on both paths, stored and deflated.
        for deflate in [false, true] {
            let f = path("fortran-\(deflate).npz")
            try write(Self.imagenetNPZ(images, resolution: r, deflated: deflate, fortran: true), to: f)
            for read in [{ _ = try readImageNetNPZ(path: f, resolution: r) }, { _ = try NPZImageSource.open(path: f, resolution: r) }] {
                XCTAssertThrowsError(try read()) { XCTAssertTrue("\($0)".contains(f) && "\($0)".contains("in Fortran order"), "\($0)") }
            }
        }
        // Cut short after opening: the read that reaches past the end fails, naming the file.
        let h = try XCTUnwrap(FileHandle(forWritingAtPath: stored))
        try h.truncate(atOffset: UInt64(try Data(contentsOf: URL(fileURLWithPath: stored)).count - 300)); try h.close()
        XCTAssertNoThrow(try s.read(0..<1))
        XCTAssertThrowsError(try s.read(0..<7)) { XCTAssertTrue("\($0)".contains("stored.npz") && "\($0)".contains("truncated"), "\($0)") }
    }

    func testGeneratedNPZIsReadable() throws {
        // The writer itself, against the npz reader's own checks (keys, shape, CRC).
        let img = (0..<(3 * 8 * 8)).map { UInt8($0 % 256) }
        let file = path("check.npz")
        let back = Array(img.reversed())
        try write(Self.imagenetNPZ([img, back], resolution: 8), to: file)
        XCTAssertEqual(try npzKeys(path: file), ["labels", "data"])
        let b = try readImageNetNPZ(path: file, resolution: 8)
        XCTAssertEqual([b.count, b.channels, b.height, b.width], [2, 3, 8, 8])
        XCTAssertEqual(b.pixels, img + back)
    }

    // MARK: ImageNet-64

    /// Image `k` of batch `batch`: channel-planar [3, r, r]; pixel 0 = batch, pixel 1 = k, the rest
    /// a pattern of (c, y, x).
    static func imagenetValue(batch: Int, k: Int, c: Int, y: Int, x: Int, r: Int) -> UInt8 {
        let p = (c * r + y) * r + x
        if p == 0 { return UInt8(batch) }
        if p == 1 { return UInt8(k) }
        return UInt8((batch * 31 + k * 17 + c * 80 + y * 3 + x) % 256)
    }

    static func imagenetImage(batch: Int, k: Int, r: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 3 * r * r)
        for c in 0..<3 { for y in 0..<r { for x in 0..<r { out[(c * r + y) * r + x] = imagenetValue(batch: batch, k: k, c: c, y: y, x: x, r: r) } } }
        return out
    }

    func testImageNet64LoadsTrainBatchesInNumericOrder() throws {
        // 12 train batches of 2 images (string order would read 1, 10, 11, 12, 2, …) and a
        // validation file of 5 in the sibling Imagenet64_val_npz folder, as the download unpacks.
        let r = 64, per = 3 * r * r, batches = 12
        let trainDir = path("Imagenet64_train_npz")
        for b in 1...batches {
            let images = (0..<2).map { Self.imagenetImage(batch: b, k: $0, r: r) }
            try write(Self.imagenetNPZ(images, resolution: r), to: (trainDir as NSString).appendingPathComponent("train_data_batch_\(b).npz"))
        }
        try write(Self.imagenetNPZ((0..<5).map { Self.imagenetImage(batch: 200, k: $0, r: r) }, resolution: r),
                  to: path("Imagenet64_val_npz", "val_data.npz"))

        let spec = DatasetSpec(kind: .imagenet64, path: trainDir, evalImages: 3, seed: 7)
        let files = try spec.imagenetFiles()
        XCTAssertEqual(files.train.map { ($0 as NSString).lastPathComponent }, (1...batches).map { "train_data_batch_\($0).npz" })
        XCTAssertEqual((files.eval as NSString).lastPathComponent, "val_data.npz")
        XCTAssertEqual(((files.eval as NSString).deletingLastPathComponent as NSString).lastPathComponent, "Imagenet64_val_npz")

        let d = try Dataset.load(spec)
        XCTAssertEqual([d.train.count, d.train.channels, d.train.height, d.train.width], [2 * batches, 3, r, r])
        XCTAssertTrue(d.train is ConcatenatedImages && d.eval is SubsetImages, "stored npz batches are read from the files, not held whole")
        let markers = (0..<d.train.count).map { [Int(d.trainBatch.pixels[$0 * per]), Int(d.trainBatch.pixels[$0 * per + 1])] }
        XCTAssertEqual(markers, (1...batches).flatMap { b in [[b, 0], [b, 1]] }, "train images out of batch order")
        // Channel-planar layout survives: image 2·b + k at (c, y, x).
        for (i, c, y, x) in [(5, 2, 10, 20), (22, 1, 63, 0), (0, 0, 5, 7), (13, 2, 63, 63)] {
            XCTAssertEqual(d.trainBatch.pixels[i * per + (c * r + y) * r + x], Self.imagenetValue(batch: i / 2 + 1, k: i % 2, c: c, y: y, x: x, r: r),
                           "image \(i) c\(c) y\(y) x\(x)")
        }
        // Eval: 3 of the 5 validation images chosen by the seed, kept in file order.
        XCTAssertEqual([d.eval.count, d.eval.channels, d.eval.height, d.eval.width], [3, 3, r, r])
        let evalIndices = try (0..<3).map { Int((try d.evalBatch()).pixels[$0 * per + 1]) }
        XCTAssertEqual(try (0..<3).map { Int((try d.evalBatch()).pixels[$0 * per]) }, [200, 200, 200])
        XCTAssertEqual(evalIndices, Array(seededPermutation(5, seed: 7).prefix(3)).sorted())
        XCTAssertEqual(Set(evalIndices).count, 3)

        // A train cap takes the first images in batch order: 1, 1, 2, 2, 3 (not 1, 1, 10, 10, 11).
        var capped = spec
        capped.trainImages = 5
        let cap = try Dataset.load(capped)
        XCTAssertEqual((0..<cap.train.count).map { Int(cap.trainBatch.pixels[$0 * per]) }, [1, 1, 2, 2, 3])
        // Gray: Rec. 601 luma of the same pixels.
        var gray = spec
        gray.channels = 1
        let g = try Dataset.load(gray)
        XCTAssertEqual([g.train.count, g.train.channels], [2 * batches, 1])
        let gy = 30, gx = 40, gi = 9
        let rgb = (0..<3).map { Int(Self.imagenetValue(batch: gi / 2 + 1, k: gi % 2, c: $0, y: gy, x: gx, r: r)) }
        XCTAssertEqual(Int(g.trainBatch.pixels[gi * r * r + gy * r + gx]), (299 * rgb[0] + 587 * rgb[1] + 114 * rgb[2] + 500) / 1000)
    }

    func testImageNetBatchOrderHelper() {
        let names = ["a/train_data_batch_10.npz", "a/train_data_batch_2.npz", "a/train_data_batch_x.npz", "a/train_data_batch_1.npz",
                     "b/train_data_batch_2.npz"]
        XCTAssertEqual(names.sorted(by: DatasetSpec.imagenetBatchOrder),
                       ["a/train_data_batch_1.npz", "a/train_data_batch_2.npz", "b/train_data_batch_2.npz", "a/train_data_batch_10.npz",
                        "a/train_data_batch_x.npz"])
        XCTAssertEqual(DatasetSpec.imagenetBatchNumber("/x/train_data_batch_11.npz"), 11)
        XCTAssertNil(DatasetSpec.imagenetBatchNumber("/x/val_data.npz"))
    }

    // MARK: CIFAR-10

    /// Record `rec` of batch `batch` (1–5 train, 9 test): plane c at position p; R[0] = batch, R[1] = rec.
    static func cifarValue(batch: Int, rec: Int, c: Int, p: Int) -> UInt8 {
        if c == 0 && p == 0 { return UInt8(batch) }
        if c == 0 && p == 1 { return UInt8(truncatingIfNeeded: rec) }
        return UInt8((batch * 40 + rec * 7 + c * 85 + p) % 256)
    }

    static func cifarLabel(batch: Int, rec: Int) -> UInt8 { UInt8((batch + 3 * rec) % 10) }

    static func cifarBatch(_ batch: Int, records: Int) -> [UInt8] {
        var out: [UInt8] = []
        for rec in 0..<records {
            out.append(cifarLabel(batch: batch, rec: rec))
            for c in 0..<3 { for p in 0..<1024 { out.append(cifarValue(batch: batch, rec: rec, c: c, p: p)) } }
        }
        return out
    }

    func testCIFAR10LoadsAllTrainBatchesAndTheTestBatch() throws {
        let dir = path("cifar-10-batches-bin")
        for b in 1...5 { try write(Self.cifarBatch(b, records: 3), to: (dir as NSString).appendingPathComponent("data_batch_\(b).bin")) }
        try write(Self.cifarBatch(9, records: 4), to: (dir as NSString).appendingPathComponent("test_batch.bin"))
        let spec = DatasetSpec(kind: .cifar10, path: dir, evalImages: 2, seed: 3)
        let d = try Dataset.load(spec)
        XCTAssertEqual([d.train.count, d.train.channels, d.train.height, d.train.width], [15, 3, 32, 32])
        XCTAssertEqual([d.eval.count, d.eval.channels, d.eval.height, d.eval.width], [2, 3, 32, 32])
        XCTAssertTrue(d.train is ConcatenatedImages && d.eval is SubsetImages, "the splits stream from the files")
        // Train: data_batch_1 … 5 in order, records in file order.
        let markers = (0..<15).map { [Int(d.trainBatch.pixels[$0 * 3072]), Int(d.trainBatch.pixels[$0 * 3072 + 1])] }
        XCTAssertEqual(markers, (1...5).flatMap { b in (0..<3).map { [b, $0] } })
        // Planar in the batch, interleaved on request: HWC (y, x, c) is plane c at y·32 + x.
        for i in [0, 7, 14] {
            let hwc = d.trainBatch.interleaved(i)
            for (y, x) in [(0, 0), (0, 1), (0, 2), (10, 20), (31, 31), (17, 3)] {
                for c in 0..<3 {
                    XCTAssertEqual(hwc[(y * 32 + x) * 3 + c], Self.cifarValue(batch: i / 3 + 1, rec: i % 3, c: c, p: y * 32 + x),
                                   "image \(i) y\(y) x\(x) c\(c)")
                }
            }
        }
        // Eval: 2 of the 4 test records chosen by the seed, in file order.
        XCTAssertEqual(try (0..<2).map { Int((try d.evalBatch()).pixels[$0 * 3072]) }, [9, 9])
        XCTAssertEqual(try (0..<2).map { Int((try d.evalBatch()).pixels[$0 * 3072 + 1]) }, Array(seededPermutation(4, seed: 3).prefix(2)).sorted())
        // Labels come through per file (the Dataset keeps images only).
        let (images, labels) = try readCIFAR10Batch(path: (dir as NSString).appendingPathComponent("data_batch_4.bin"))
        XCTAssertEqual(labels, (0..<3).map { Self.cifarLabel(batch: 4, rec: $0) })
        XCTAssertEqual(images.pixels, Array(d.trainBatch.pixels[(9 * 3072)..<(12 * 3072)]))
        // A cap keeps a seeded subset of the train images, in order.
        var capped = spec
        capped.trainImages = 4
        let cap = try Dataset.load(capped)
        XCTAssertEqual(cap.train.count, 4)
        let kept = (0..<4).map { Int(cap.trainBatch.pixels[$0 * 3072]) * 10 + Int(cap.trainBatch.pixels[$0 * 3072 + 1]) }
        XCTAssertEqual(kept, kept.sorted())
        XCTAssertEqual(Set(kept).count, 4)

        // 16×16 gray: each output pixel is the rounded mean of a 2×2 block per channel, then
        // Rec. 601 luma — computed here from the record values.
        var small = spec
        small.resolution = 16
        small.channels = 1
        let s = try Dataset.load(small)
        XCTAssertEqual([s.train.count, s.train.channels, s.train.height, s.train.width], [15, 1, 16, 16])
        for i in [2, 11] {
            for (oy, ox) in [(0, 0), (5, 9), (15, 15), (8, 1)] {
                let mean = (0..<3).map { c -> Int in
                    var sum = 0
                    for dy in 0..<2 { for dx in 0..<2 { sum += Int(Self.cifarValue(batch: i / 3 + 1, rec: i % 3, c: c, p: (2 * oy + dy) * 32 + 2 * ox + dx)) } }
                    return (sum + 2) / 4
                }
                XCTAssertEqual(Int(s.trainBatch.pixels[i * 256 + oy * 16 + ox]), (299 * mean[0] + 587 * mean[1] + 114 * mean[2] + 500) / 1000,
                               "image \(i) (\(oy), \(ox))")
            }
        }
    }

    /// A CIFAR-10 batch is read record by record from its file (CIFAR10ImageSource): the same bytes as the
    /// whole-file reader by range (across its 1,024-record reads) and by scattered index; a bad label past
    /// the first 1,024 records is refused when the file is opened, naming the file and the record; a file
    /// cut short after it was opened is a one-line error naming it.
    func testCIFAR10BatchStreamsTheWholeReadersBytes() throws {
        let f = path("big_batch.bin")
        var bytes = Self.cifarBatch(2, records: 1300)
        try write(bytes, to: f)
        let whole = try readCIFAR10Batch(path: f).images
        let s = try CIFAR10ImageSource(path: f)
        XCTAssertEqual([s.count, s.channels, s.height, s.width], [1300, 3, 32, 32])
        XCTAssertEqual(try s.read(0..<1300).pixels, whole.pixels)
        XCTAssertEqual(try s.read(1000..<1100).pixels, whole.slice(1000..<1100).pixels)
        XCTAssertEqual(try s.gather([1299, 0, 1024, 1023, 5]).pixels, whole.subset([1299, 0, 1024, 1023, 5]).pixels)
        bytes[1200 * cifar10RecordBytes] = 10
        let bad = path("bad_label.bin")
        try write(bytes, to: bad)
        XCTAssertThrowsError(try CIFAR10ImageSource(path: bad)) { e in
            XCTAssertTrue(["bad_label.bin", "record 1200", "label 10"].allSatisfy { "\(e)".contains($0) }, "\(e)")
        }
        XCTAssertThrowsError(try CIFAR10ImageSource(path: path("cifar-10-batches-bin-none", "x.bin"))) { XCTAssertTrue("\($0)".contains("x.bin"), "\($0)") }
        let h = try XCTUnwrap(FileHandle(forWritingAtPath: f))
        try h.truncate(atOffset: UInt64(1000 * cifar10RecordBytes)); try h.close()
        XCTAssertNoThrow(try s.read(0..<10))
        XCTAssertThrowsError(try s.read(990..<1010)) { XCTAssertTrue("\($0)".contains("big_batch.bin") && "\($0)".contains("truncated"), "\($0)") }
    }

    func testCIFAR10MissingBatchIsAnErrorNamingIt() throws {
        let dir = path("cifar-partial")
        for b in [1, 2, 3, 5] { try write(Self.cifarBatch(b, records: 1), to: (dir as NSString).appendingPathComponent("data_batch_\(b).bin")) }
        try write(Self.cifarBatch(9, records: 1), to: (dir as NSString).appendingPathComponent("test_batch.bin"))
        XCTAssertThrowsError(try Dataset.load(DatasetSpec(kind: .cifar10, path: dir, evalImages: 1))) { e in
            XCTAssertTrue(String(describing: e).contains("data_batch_4.bin"), "\(e)")
        }
    }

    // MARK: photos

    /// The photos set from generated PNG files. Its source list is hard-coded to the Debian
    /// wallpaper folders (PhotoSet.sourceFiles() takes no root), so that step is not covered;
    /// everything after it is: PNG decode → box downsample → tiles → tile cache → the
    /// Dataset's split by photo, caps and channel conversion. The cache is written with the
    /// signature of this machine's photo list, which is what makes `prepare` use it as is.
    func testPhotosFromGeneratedPNGFiles() throws {
        // 5 photos of 40×24: photo k is flat (R, G) = (20 + 40k, 200 − 30k) with B = 10 on the
        // left half and 250 on the right; photo 4 is gray (value 90) and is replicated to RGB.
        // Auto downsample: max(2, round(24 / 48)) = 2 → 20×12 → a centred grid of 2×1 tiles of 8.
        var files: [String] = []
        for k in 0..<5 {
            let w = 40, h = 24
            let img: ImageBatch
            if k == 4 {
                img = ImageBatch(count: 1, channels: 1, height: h, width: w, pixels: [UInt8](repeating: 90, count: w * h))
            } else {
                var hwc = [UInt8](repeating: 0, count: w * h * 3)
                for y in 0..<h { for x in 0..<w {
                    hwc[(y * w + x) * 3] = UInt8(20 + 40 * k)
                    hwc[(y * w + x) * 3 + 1] = UInt8(200 - 30 * k)
                    hwc[(y * w + x) * 3 + 2] = x < w / 2 ? 10 : 250
                } }
                img = ImageBatch.fromInterleaved(hwc, channels: 3, height: h, width: w)
            }
            let file = path("photos", "photo\(k).png")
            try write(try encodePNG(img, level: 6), to: file)
            files.append(file)
        }
        func expectedRGB(_ k: Int, tile t: Int) -> [UInt8] {
            k == 4 ? [90, 90, 90] : [UInt8(20 + 40 * k), UInt8(200 - 30 * k), t == 0 ? 10 : 250]
        }
        let photos = try PhotoSet.buildTiles(tile: 8, files: files)
        XCTAssertEqual(photos.map(\.source), files)
        XCTAssertEqual(photos.map { $0.tiles.count }, [2, 2, 2, 2, 2])
        for (k, p) in photos.enumerated() {
            for t in 0..<2 { for c in 0..<3 {
                let plane = Array(p.tiles.pixels[(t * 3 + c) * 64..<((t * 3 + c) * 64 + 64)])
                XCTAssertEqual(plane, [UInt8](repeating: expectedRGB(k, tile: t)[c], count: 64), "photo \(k) tile \(t) channel \(c)")
            } }
        }
        let cacheDir = path("cache")
        try FileManager.default.createDirectory(atPath: cacheDir, withIntermediateDirectories: true)
        try PhotoSet.writeCache(photos, tile: 8, signature: PhotoSet.sourceSignature(files: PhotoSet.sourceFiles(), downsample: nil),
                                to: PhotoSet.cacheFile(cacheDir: cacheDir, tile: 8))

        let spec = DatasetSpec(kind: .photos, path: cacheDir, resolution: 8, evalImages: 100, evalPhotos: 2, seed: 11)
        let d = try Dataset.loadPhotos(spec)
        XCTAssertEqual([d.train.count, d.eval.count], [6, 4])
        XCTAssertEqual([d.train.channels, d.train.height, d.train.width], [3, 8, 8])
        /// The photo a tile came from (by its R, or the gray value) and which tile it is (by B).
        func identify(_ b: ImageBatch, _ i: Int) -> (photo: Int, tile: Int) {
            let r = Int(b.pixels[i * 192]), blue = Int(b.pixels[i * 192 + 128])
            if r == 90 && blue == 90 { return (4, -1) }
            return ((r - 20) / 40, blue == 10 ? 0 : 1)
        }
        let evalTiles = try (0..<4).map { identify(try d.evalBatch(), $0) }, trainTiles = (0..<6).map { identify(d.trainBatch, $0) }
        let evalPhotos = Set(evalTiles.map(\.photo)), trainPhotos = Set(trainTiles.map(\.photo))
        XCTAssertEqual(evalPhotos.count, 2)
        XCTAssertTrue(evalPhotos.isDisjoint(with: trainPhotos), "a photo on both sides: eval \(evalPhotos), train \(trainPhotos)")
        XCTAssertEqual(evalPhotos.union(trainPhotos), [0, 1, 2, 3, 4])
        XCTAssertEqual(evalPhotos, Set(Array(seededPermutation(5, seed: 11).prefix(2))))
        // Every tile is its photo's, whole and in order (photos in source order, tiles left to right).
        for (b, tiles) in [(try d.evalBatch(), evalTiles), (d.trainBatch, trainTiles)] {
            XCTAssertEqual(tiles.map(\.photo), tiles.map(\.photo).sorted())
            for (i, t) in tiles.enumerated() {
                for c in 0..<3 {   // (the gray photo's two tiles look alike: tile −1)
                    XCTAssertEqual(Array(b.pixels[(i * 3 + c) * 64..<((i * 3 + c) * 64 + 64)]),
                                   [UInt8](repeating: expectedRGB(t.photo, tile: max(t.tile, 0))[c], count: 64), "tile \(i) channel \(c)")
                }
            }
            for p in Set(tiles.map(\.photo)) where p != 4 { XCTAssertEqual(tiles.filter { $0.photo == p }.map(\.tile), [0, 1]) }
        }
        // Caps: eval_images caps the eval tiles, train_images the train tiles; channels 1 is luma.
        var capped = spec
        capped.evalImages = 3
        capped.trainImages = 2
        capped.channels = 1
        let cap = try Dataset.loadPhotos(capped)
        XCTAssertEqual([cap.train.count, cap.eval.count, cap.train.channels], [2, 3, 1])
        for b in [cap.trainBatch, try cap.evalBatch()] {
            for i in 0..<b.count {
                let v = Int(b.pixels[i * 64])
                let candidates = (0..<5).flatMap { k in (0..<2).map { t -> Int in
                    let rgb = expectedRGB(k, tile: t).map { Int($0) }
                    return (299 * rgb[0] + 587 * rgb[1] + 114 * rgb[2] + 500) / 1000
                } }
                XCTAssertTrue(candidates.contains(v), "gray tile value \(v) is no photo's luma")
                XCTAssertEqual(Array(b.pixels[(i * 64)..<(i * 64 + 64)]), [UInt8](repeating: UInt8(v), count: 64))
            }
        }
    }
}

extension Dataset {
    /// The packaged sets keep their train split in memory (an image folder's is read through a decode cache).
    var trainBatch: ImageBatch { try! train.read(0..<train.count) }
}
