import CPNG

/// Decodes a PNG file of any colour type and bit depth to an 8-bit one-image batch:
/// gray (and gray+alpha) → 1 channel, RGB/RGBA/palette → 3 channels; alpha dropped, 16-bit
/// scaled with rounding, interlacing undone. Output: [1, C, H, W].
public func readPNG(path: String) throws -> ImageBatch {
    try decodePNG(try readFileBytes(path), path: path)
}

public func decodePNG(_ bytes: [UInt8], path: String, expect: (width: Int, height: Int)? = nil,
                       maxPixels: Int = ImageLimits.maxPixels) throws -> ImageBatch {
    // IHDR is the first chunk (bytes 8…32): its size is checked before libpng allocates anything.
    if bytes.count >= 24, bytes[12..<16].elementsEqual("IHDR".utf8) {
        func be32(_ o: Int) -> Int { Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3]) }
        try ImageLimits.check(width: be32(16), height: be32(20), expect: expect, path: path, maxPixels: maxPixels)
    }
    var pixels: UnsafeMutablePointer<UInt8>? = nil
    var w: Int32 = 0, h: Int32 = 0, c: Int32 = 0
    var err = [CChar](repeating: 0, count: 256)
    let rc = bytes.withUnsafeBufferPointer { buf in
        tb_png_decode(buf.baseAddress, buf.count, &pixels, &w, &h, &c, &err, err.count)
    }
    guard rc == 0, let p = pixels else {
        throw DatasetError(path, "PNG: " + String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    defer { tb_png_free(p) }
    let hwc = Array(UnsafeBufferPointer(start: p, count: Int(w) * Int(h) * Int(c)))
    return ImageBatch.fromInterleaved(hwc, channels: Int(c), height: Int(h), width: Int(w))
}

/// Encodes image `index` of a batch as PNG bytes (zlib level 0–9).
public func encodePNG(_ batch: ImageBatch, index: Int = 0, level: Int = 9) throws -> [UInt8] {
    let hwc = batch.interleaved(index)
    var out: UnsafeMutablePointer<UInt8>? = nil
    var size = 0
    var err = [CChar](repeating: 0, count: 256)
    let rc = hwc.withUnsafeBufferPointer { buf in
        tb_png_encode(buf.baseAddress, Int32(batch.width), Int32(batch.height), Int32(batch.channels), Int32(level), &out, &size, &err, err.count)
    }
    guard rc == 0, let o = out else {
        throw DatasetError("<png>", String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    defer { tb_png_free(o) }
    return Array(UnsafeBufferPointer(start: o, count: size))
}
