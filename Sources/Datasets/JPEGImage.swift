import Foundation
import CJPEG

/// Decodes a JPEG file (baseline or progressive; gray, YCbCr, RGB, CMYK or YCCK) to a
/// one-image batch: grayscale JPEGs → 1 channel, everything else → RGB, 3 channels.
/// A truncated or corrupt file is a DatasetError naming it. Output: [1, C, H, W].
public func readJPEG(path: String) throws -> ImageBatch {
    try decodeJPEG(try readFileBytes(path), path: path)
}

public func decodeJPEG(_ bytes: [UInt8], path: String, expect: (width: Int, height: Int)? = nil,
                       maxPixels: Int = ImageLimits.maxPixels) throws -> ImageBatch {
    let (w, h, c) = try jpegHeader(bytes, path: path)
    try ImageLimits.check(width: w, height: h, expect: expect, path: path, maxPixels: maxPixels)
    var err = [CChar](repeating: 0, count: 256)
    var rc: Int32 = 0
    let pixels = [UInt8](unsafeUninitializedCapacity: c * h * w) { out, initialized in
        rc = bytes.withUnsafeBufferPointer { buf in
            tb_jpeg_decode(buf.baseAddress, buf.count, out.baseAddress, out.count, &err, err.count)
        }
        if rc != 0 { out.initialize(repeating: 0) }  // never hand back uninitialized memory
        initialized = out.count
    }
    guard rc == 0 else { throw DatasetError(path, "JPEG: " + cMessage(err)) }
    return ImageBatch(count: 1, channels: c, height: h, width: w, pixels: pixels)  // [1, C, H, W]
}

/// Width, height and output channels (1 gray, 3 otherwise) from the JPEG header, without decoding.
public func jpegHeader(_ bytes: [UInt8], path: String) throws -> (width: Int, height: Int, channels: Int) {
    var w: Int32 = 0, h: Int32 = 0, c: Int32 = 0
    var err = [CChar](repeating: 0, count: 256)
    let rc = bytes.withUnsafeBufferPointer { buf in tb_jpeg_header(buf.baseAddress, buf.count, &w, &h, &c, &err, err.count) }
    guard rc == 0 else { throw DatasetError(path, "JPEG: " + cMessage(err)) }
    return (Int(w), Int(h), Int(c))
}

/// A NUL-terminated C message buffer as a one-line Swift string.
func cMessage(_ err: [CChar]) -> String {
    String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Decodes a PNG or JPEG file, chosen by its first bytes (not its name). Output: [1, C, H, W].
/// The header's size is checked before any pixel is decoded: against `expect` when the caller knows
/// the size it needs, and always against `ImageLimits.maxPixels`.
public func readImage(path: String, expect: (width: Int, height: Int)? = nil) throws -> ImageBatch {
    let bytes = try readFileBytes(path)
    switch ImageFormat(sniffing: bytes) {
    case .png: return try decodePNG(bytes, path: path, expect: expect)
    case .jpeg: return try decodeJPEG(bytes, path: path, expect: expect)
    case nil:
        let head = bytes.prefix(4).map { b -> String in let h = String(b, radix: 16); return h.count == 1 ? "0" + h : h }
        throw DatasetError(path, head.isEmpty ? "empty file, expected PNG or JPEG" : "not a PNG or JPEG file (starts with \(head.joined(separator: " ")))")
    }
}

/// Image container formats recognised by their magic bytes.
public enum ImageFormat: String, Sendable {
    case png, jpeg

    public init?(sniffing bytes: [UInt8]) {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { self = .png }
        else if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { self = .jpeg }
        else { return nil }
    }
}

/// Bounds on decoding one image, so a small file cannot ask for gigabytes: a header declaring more
/// than `maxPixels` pixels (default 50,000,000: an 8K photo is 33 MP; environment variable
/// TOKBENCH_MAX_IMAGE_PIXELS overrides) or another size than the caller expects is refused before
/// any pixel is decoded. Decoding then holds one image.
public enum ImageLimits {
    public static let defaultMaxPixels = 50_000_000
    public static let maxPixels: Int = ProcessInfo.processInfo.environment["TOKBENCH_MAX_IMAGE_PIXELS"].flatMap { Int($0) }.map { max(1, $0) }
        ?? defaultMaxPixels

    public static func check(width: Int, height: Int, expect: (width: Int, height: Int)?, path: String, maxPixels: Int = ImageLimits.maxPixels) throws {
        if let e = expect, (width, height) != (e.width, e.height) {
            throw DatasetError(path, "is \(width)x\(height), expected \(e.width)x\(e.height)")
        }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, pixels <= maxPixels else {   // (the product is printed only when it exists: a fuzzer found that overflow)
            throw DatasetError(path, "is \(width)x\(height)\(overflow ? "" : " = \(pixels)") pixels, above the limit of \(maxPixels) (TOKBENCH_MAX_IMAGE_PIXELS raises it)")
        }
    }
}

/// Width, height and the channels `readImage` would give (1 gray, 3 otherwise), from the first bytes
/// of a PNG or JPEG file, without decoding it (a JPEG whose frame header lies past the first 256 KB is
/// read whole).
public func imageHeader(path: String) throws -> (width: Int, height: Int, channels: Int) {
    guard let h = FileHandle(forReadingAtPath: path) else { throw DatasetError(path, whyMissing(path)) }
    defer { try? h.close() }
    var bytes = [UInt8]((try? h.read(upToCount: 1 << 18)) ?? Data())
    switch ImageFormat(sniffing: bytes) {
    case .png:
        guard bytes.count >= 26, bytes[12..<16].elementsEqual("IHDR".utf8) else { throw DatasetError(path, "PNG: no IHDR chunk first") }
        func be32(_ o: Int) -> Int { Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3]) }
        let colour = bytes[25]
        return (be32(16), be32(20), colour == 0 || colour == 4 ? 1 : 3)
    case .jpeg:
        if let r = try? jpegHeader(bytes, path: path) { return r }
        bytes = try readFileBytes(path)
        return try jpegHeader(bytes, path: path)
    case nil:
        let head = bytes.prefix(4).map { b -> String in let h = String(b, radix: 16); return h.count == 1 ? "0" + h : h }
        throw DatasetError(path, head.isEmpty ? "empty file, expected PNG or JPEG" : "not a PNG or JPEG file (starts with \(head.joined(separator: " ")))")
    }
}

/// Encodes image `index` of a batch as a baseline JPEG of `quality` (1–100; 4:2:0 chroma for colour).
public func encodeJPEG(_ batch: ImageBatch, index: Int = 0, quality: Int) throws -> [UInt8] {
    let hwc = batch.interleaved(index)
    var out: UnsafeMutablePointer<UInt8>? = nil
    var size = 0
    var err = [CChar](repeating: 0, count: 256)
    let rc = hwc.withUnsafeBufferPointer { buf in
        tb_jpeg_encode(buf.baseAddress, Int32(batch.width), Int32(batch.height), Int32(batch.channels), Int32(quality), &out, &size, &err, err.count)
    }
    guard rc == 0, let o = out else { throw DatasetError("<jpeg>", cMessage(err)) }
    defer { tb_jpeg_free(o) }
    return Array(UnsafeBufferPointer(start: o, count: size))
}
