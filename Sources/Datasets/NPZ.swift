import CZlib
import Foundation

// NumPy .npz archives (np.savez: stored entries; np.savez_compressed: deflate entries), as
// used by Downsampled ImageNet (`Imagenet64_train_npz/train_data_batch_*.npz`, key `data`:
// N × 12288 uint8, channel-planar). A minimal zip reader (stored + raw deflate, zip64 sizes,
// CRC-checked) and a .npy parser (versions 1–3; NPY.swift decodes its ten numeric dtypes).
// Every entry's .npy header is read first (from the first inflated bytes) and checked, with the
// caller's check of its shape and `NPZLimits.maxBytes`, before the entry is inflated: a small archive
// cannot ask for gigabytes.

/// Downsampled ImageNet: key `data`, shape [N, 3·r·r] uint8, channel-planar, so it maps
/// directly to images: [N, 3, r, r].
public func readImageNetNPZ(path: String, resolution: Int = 64) throws -> ImageBatch {
    precondition(resolution > 0)
    let (shape, bytes) = try readNPZArray(path: path, key: "data", check: imageNetDataCheck(path: path, resolution: resolution))
    return ImageBatch(count: shape[0], channels: 3, height: resolution, width: resolution, pixels: bytes)  // [N, 3, r, r]
}

/// The header Downsampled ImageNet's `data` array must have, on both paths (whole and streamed):
/// uint8, shape (N, 3·r·r), C order.
func imageNetDataCheck(path: String, resolution: Int) -> (NPYHeader) throws -> Void {
    let per = 3 * resolution * resolution
    return { h in
        guard h.isUInt8 else { throw DatasetError(path, "array 'data' has dtype '\(h.descr)', expected uint8 ('|u1')") }
        guard h.shape.count == 2, h.shape[1] == per, !h.fortranOrder else {
            throw DatasetError(path, "array 'data' has shape \(pyShape(h.shape))\(h.fortranOrder ? " in Fortran order" : ""), expected (N, \(per)) for \(resolution)×\(resolution) RGB images")
        }
    }
}

/// One uint8 array of an .npz archive, by key (the entry name without `.npy`), in C order.
/// bytes: product(shape) values.
/// check: the caller's test of the header (its shape), before the entry is inflated.
public func readNPZArray(path: String, key: String, check: (NPYHeader) throws -> Void = { _ in }) throws -> (shape: [Int], bytes: [UInt8]) {
    var (name, data) = try npzEntry(path: path, key: key) { h in
        guard h.isUInt8 else { throw DatasetError(path, "array '\(key)' has dtype '\(h.descr)', expected uint8 ('|u1')") }
        try check(h)
    }
    let header = try parseNPYHeader(data, path: path, name: name)
    let count = try header.elementCount(path: path, name: name)
    guard data.count - header.dataOffset == count else {
        throw DatasetError(path, "array '\(key)' shape \(pyShape(header.shape)) needs \(count) bytes, entry holds \(data.count - header.dataOffset)")
    }
    data.removeSubrange(0..<header.dataOffset)  // in place: no second copy of a large array
    return (header.shape, data)
}

/// The bytes of one .npy entry of an .npz archive, by key (the entry name without `.npy`), and its name.
/// Before the entry is inflated its .npy header is read from the first bytes and checked: by `check`
/// (the caller's expected shape and dtype), against the entry's declared size, and against
/// `NPZLimits.maxBytes`.
func npzEntry(path: String, key: String, check: (NPYHeader) throws -> Void) throws -> (name: String, data: [UInt8]) {
    let file = try mappedFile(path)
    return try file.withUnsafeBytes { (buf: UnsafeRawBufferPointer) in
        let (entry, _) = try npzEntryHeader(buf, path: path, key: key, check: check)
        return (entry.name, try zipEntryData(buf, entry, path: path))
    }
}

/// The zip entry of one .npy array, by key, and its .npy header, read from the entry's first bytes and
/// checked (by `check`, then its dtype's item size, `NPZLimits.maxBytes` and the entry's declared size)
/// without inflating the rest.
func npzEntryHeader(_ buf: UnsafeRawBufferPointer, path: String, key: String, check: (NPYHeader) throws -> Void) throws -> (ZipEntry, NPYHeader) {
    let entries = try zipEntries(buf, path: path)
    guard let entry = entries.first(where: { npzKey($0.name) == key }) else {
        let keys = entries.map { npzKey($0.name) }
        throw DatasetError(path, "no array '\(key)' in npz; keys present: \(keys.isEmpty ? "none" : keys.joined(separator: ", "))")
    }
    let head = try zipEntryData(buf, entry, path: path, prefix: NPZLimits.headerBytes)
    let h = try parseNPYHeader(head, path: path, name: entry.name)
    try check(h)
    // a dtype tokbench reads has a known item size: without one the entry's size cannot be checked before it inflates
    guard let itemSize = h.itemSize else { throw DatasetError(path, "array '\(key)' has dtype '\(h.descr)', which tokbench does not read") }
    let count = try h.elementCount(path: path, name: entry.name)
    let (bytes, overflow) = count.multipliedReportingOverflow(by: itemSize)
    guard !overflow, bytes <= NPZLimits.maxBytes else {
        throw DatasetError(path, "array '\(key)' declares shape \(pyShape(h.shape)) of '\(h.descr)': more than the \(NPZLimits.maxBytes) bytes allowed "
                           + "(TOKBENCH_MAX_ARRAY_BYTES raises it)")
    }
    if entry.uncompressedSize != h.dataOffset + bytes {
        throw DatasetError(path, "array '\(key)' shape \(pyShape(h.shape)) needs \(bytes) bytes of '\(h.descr)', the entry holds \(entry.uncompressedSize - h.dataOffset)")
    }
    return (entry, h)
}

/// How much one npz entry may inflate to: `maxBytes` (default 8 GiB, environment variable
/// TOKBENCH_MAX_ARRAY_BYTES overrides), on top of each caller's check of the shape it expects.
public enum NPZLimits {
    public static let defaultMaxBytes = 8 << 30
    public static let maxBytes: Int = ProcessInfo.processInfo.environment["TOKBENCH_MAX_ARRAY_BYTES"].flatMap { Int($0) }.map { max(1, $0) }
        ?? defaultMaxBytes
    /// The first bytes of an entry inflated to read its .npy header (headers of version 2/3 may be longer; they are refused).
    static let headerBytes = 1 << 16
}

/// The keys of an .npz archive, in archive order.
public func npzKeys(path: String) throws -> [String] {
    let file = try mappedFile(path)
    return try file.withUnsafeBytes { try zipEntries($0, path: path).map { npzKey($0.name) } }
}

func npzKey(_ name: String) -> String { name.hasSuffix(".npy") ? String(name.dropLast(4)) : name }
func pyShape(_ s: [Int]) -> String { s.count == 1 ? "(\(s[0]),)" : "(" + s.map(String.init).joined(separator: ", ") + ")" }

/// The file's bytes, memory-mapped where the platform allows (npz files can be > 1 GB).
public func mappedFile(_ path: String) throws -> Data {
    try requireFile(path)
    // An empty file is an error of its own (and Foundation's reader leaks a buffer on it).
    if fileSize(path) == 0 { throw DatasetError(path, "empty file, expected an npz (zip) archive") }
    do { return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
        throw DatasetError(path, "cannot read file")
    }
}

// MARK: - zip

public struct ZipEntry {
    public var name: String
    var method: Int            // 0 stored, 8 deflate
    var flags: Int
    var crc32: UInt32
    var compressedSize: Int
    var uncompressedSize: Int
    var localHeaderOffset: Int
}

private extension UnsafeRawBufferPointer {
    func le16(_ o: Int) -> Int { Int(self[o]) | Int(self[o + 1]) << 8 }
    func le32(_ o: Int) -> Int { le16(o) | le16(o + 2) << 16 }
    func le64(_ o: Int) -> Int { le32(o) | le32(o + 4) << 32 }
}

/// The central directory of a zip archive held in `buf`.
public func zipEntries(_ buf: UnsafeRawBufferPointer, path: String, what: String = "npz") throws -> [ZipEntry] {
    let n = buf.count
    func bad(_ m: String) -> DatasetError { DatasetError(path, "corrupt \(what) (zip): \(m)") }
    // End of central directory: 22 bytes + a comment of up to 65535 bytes, at the very end.
    guard n >= 22 else { throw DatasetError(path, "not an \(what) (zip) file: only \(n) bytes") }
    var eocd = -1
    var i = n - 22
    while i >= max(0, n - 22 - 65535) {
        if buf.le32(i) == 0x0605_4b50 { eocd = i; break }
        i -= 1
    }
    guard eocd >= 0 else {
        let isZip = n >= 4 && buf.le32(0) == 0x0403_4b50
        throw DatasetError(path, isZip ? "corrupt \(what) (zip): end of central directory missing (truncated file?)" : "not an \(what) (zip) file")
    }
    var count = buf.le16(eocd + 10), cdSize = buf.le32(eocd + 12), cdOffset = buf.le32(eocd + 16)
    if count == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF {
        // zip64: the locator sits just before the classic record and points at the zip64 record.
        let loc = eocd - 20
        guard loc >= 0, buf.le32(loc) == 0x0706_4b50 else { throw bad("zip64 locator missing") }
        let z = buf.le64(loc + 8)
        guard z >= 0, z <= n - 56, buf.le32(z) == 0x0606_4b50 else { throw bad("zip64 end record missing") }
        count = buf.le64(z + 32); cdSize = buf.le64(z + 40); cdOffset = buf.le64(z + 48)
    }
    guard cdOffset >= 0, cdSize >= 0, cdOffset <= n, cdSize <= n - cdOffset else { throw bad("central directory outside the file") }
    var entries: [ZipEntry] = []
    var o = cdOffset
    for _ in 0..<count {
        guard o + 46 <= n, buf.le32(o) == 0x0201_4b50 else { throw bad("bad central directory entry") }
        let nameLen = buf.le16(o + 28), extraLen = buf.le16(o + 30), commentLen = buf.le16(o + 32)
        guard o + 46 + nameLen + extraLen + commentLen <= n else { throw bad("central directory entry past the end") }
        var e = ZipEntry(name: String(decoding: UnsafeRawBufferPointer(rebasing: buf[(o + 46)..<(o + 46 + nameLen)]), as: UTF8.self),
                         method: buf.le16(o + 10), flags: buf.le16(o + 8), crc32: UInt32(buf.le32(o + 16)),
                         compressedSize: buf.le32(o + 20), uncompressedSize: buf.le32(o + 24), localHeaderOffset: buf.le32(o + 42))
        // zip64 extra field (id 1): 8-byte values for exactly the fields that read 0xFFFFFFFF.
        var x = o + 46 + nameLen
        let xEnd = x + extraLen
        while x + 4 <= xEnd {
            let id = buf.le16(x), len = buf.le16(x + 2)
            if id == 1 {
                var f = x + 4
                if e.uncompressedSize == 0xFFFF_FFFF, f + 8 <= x + 4 + len { e.uncompressedSize = buf.le64(f); f += 8 }
                if e.compressedSize == 0xFFFF_FFFF, f + 8 <= x + 4 + len { e.compressedSize = buf.le64(f); f += 8 }
                if e.localHeaderOffset == 0xFFFF_FFFF, f + 8 <= x + 4 + len { e.localHeaderOffset = buf.le64(f) }
            }
            x += 4 + len
        }
        entries.append(e)
        o += 46 + nameLen + extraLen + commentLen
    }
    return entries
}

/// The uncompressed bytes of one entry, CRC-checked; with `prefix`, only its first `prefix` bytes (not checked).
public func zipEntryData(_ buf: UnsafeRawBufferPointer, _ e: ZipEntry, path: String, prefix: Int? = nil, what: String = "npz") throws -> [UInt8] {
    func bad(_ m: String) -> DatasetError { DatasetError(path, "corrupt \(what) (zip) entry '\(e.name)': \(m)") }
    let start = try zipDataStart(buf, e, path: path, what: what)
    guard e.flags & 1 == 0 else { throw DatasetError(path, "\(what) entry '\(e.name)' is encrypted") }
    let src = UnsafeRawBufferPointer(rebasing: buf[start..<(start + e.compressedSize)])
    var out: [UInt8]
    switch e.method {
    case 0:
        guard e.compressedSize == e.uncompressedSize else { throw bad("stored entry with different sizes") }
        if let p = prefix { return [UInt8](src.prefix(p)) }
        out = [UInt8](src)
    case 8:
        // Deflate expands at most ~1032:1; a larger declared size is a damaged header, not a reason to allocate.
        guard e.uncompressedSize <= e.compressedSize * 1032 + 1024 else {
            throw bad("declared size \(e.uncompressedSize) impossible for \(e.compressedSize) compressed bytes")
        }
        if let p = prefix { return try inflateRaw(src, size: min(p, e.uncompressedSize), prefixOnly: true) { bad($0) } }
        out = try inflateRaw(src, size: e.uncompressedSize) { bad($0) }
    default:
        throw DatasetError(path, "\(what) entry '\(e.name)' uses zip compression method \(e.method); only stored (0) and deflate (8) are supported")
    }
    let crc = out.withUnsafeBufferPointer { b -> UInt32 in
        var c: uLong = 0, off = 0
        while off < b.count {
            let len = min(b.count - off, 1 << 30)
            c = crc32(c, b.baseAddress! + off, uInt(len)); off += len
        }
        return UInt32(truncatingIfNeeded: c)
    }
    guard crc == e.crc32 else { throw bad("CRC mismatch") }
    return out
}

/// The offset in `buf` of one entry's (compressed) data, its local header checked and its data inside the file.
func zipDataStart(_ buf: UnsafeRawBufferPointer, _ e: ZipEntry, path: String, what: String = "npz") throws -> Int {
    func bad(_ m: String) -> DatasetError { DatasetError(path, "corrupt \(what) (zip) entry '\(e.name)': \(m)") }
    let n = buf.count, lh = e.localHeaderOffset
    guard lh >= 0, lh <= n - 30, buf.le32(lh) == 0x0403_4b50 else { throw bad("bad local header") }
    let start = lh + 30 + buf.le16(lh + 26) + buf.le16(lh + 28)
    guard start <= n, e.compressedSize >= 0, e.uncompressedSize >= 0, e.compressedSize <= n - start else { throw bad("data past the end of the file (truncated?)") }
    return start
}

/// Raw deflate (no zlib/gzip header: windowBits -15) into exactly `size` bytes (with `prefixOnly`, the
/// first `size` bytes of a longer stream).
private func inflateRaw(_ src: UnsafeRawBufferPointer, size: Int, prefixOnly: Bool = false, fail: (String) -> DatasetError) throws -> [UInt8] {
    var stream = z_stream()
    guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { throw fail("zlib init failed") }
    defer { inflateEnd(&stream) }
    var out = [UInt8](repeating: 0, count: size)
    var spare: UInt8 = 0  // 1-byte sink once `out` is full: anything written there is excess data
    var inPos = 0, outPos = 0
    try out.withUnsafeMutableBufferPointer { dst in
        while true {
            let inLen = min(src.count - inPos, 1 << 30)
            stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) + inPos })
            stream.avail_in = uInt(inLen)
            let full = outPos == size
            if full && prefixOnly { return }
            let outLen = full ? 1 : min(size - outPos, 1 << 30)
            let status: Int32 = withUnsafeMutablePointer(to: &spare) { sp in
                stream.next_out = full ? sp : dst.baseAddress! + outPos
                stream.avail_out = uInt(outLen)
                return inflate(&stream, Z_NO_FLUSH)
            }
            let consumed = inLen - Int(stream.avail_in), produced = outLen - Int(stream.avail_out)
            inPos += consumed
            if full && produced > 0 { throw fail("inflates past its declared size \(size)") }
            if !full { outPos += produced }
            if status == Z_STREAM_END { break }
            guard status == Z_OK || status == Z_BUF_ERROR else { throw fail("bad deflate data (\(stream.msg.map { String(cString: $0) } ?? String(cString: zError(status))))") }
            if consumed == 0 && produced == 0 { throw fail("deflate data ends early (truncated?)") }
        }
    }
    guard outPos == size else { throw fail("inflates to \(outPos) bytes, zip says \(size)") }
    return out
}

// MARK: - npy

public struct NPYHeader: Sendable {
    public var descr: String
    public var fortranOrder: Bool
    public var shape: [Int]
    var dataOffset: Int   // bytes before the array data

    /// Bytes per element of a numeric dtype ('<i8' → 8, '|u1' → 1), nil for one NPY.swift does not read.
    public var itemSize: Int? {
        let d = descr.drop { "<>|=".contains($0) }
        guard let k = d.first, "uifb".contains(k), let n = Int(String(d.dropFirst())), [1, 2, 4, 8].contains(n) else { return isUInt8 ? 1 : nil }
        return n
    }

    public var isUInt8: Bool { ["|u1", "<u1", ">u1", "=u1", "u1", "|B", "B"].contains(descr) }

    public func elementCount(path: String, name: String) throws -> Int {
        var c = 1
        for d in shape {
            let (m, o) = c.multipliedReportingOverflow(by: d)
            guard d >= 0, !o else { throw DatasetError(path, "npy '\(name)': bad shape \(pyShape(shape))") }
            c = m
        }
        if fortranOrder && shape.filter({ $0 > 1 }).count > 1 {
            throw DatasetError(path, "npy '\(name)': fortran_order True is not supported for shape \(pyShape(shape))")
        }
        return c
    }
}

/// Parses the .npy preamble: magic "\x93NUMPY", version 1 (2-byte header length) or 2/3
/// (4-byte), then a Python dict literal {'descr': …, 'fortran_order': …, 'shape': (…)}.
func parseNPYHeader(_ b: [UInt8], path: String, name: String) throws -> NPYHeader {
    func bad(_ m: String) -> DatasetError { DatasetError(path, "bad .npy header in '\(name)': \(m)") }
    guard b.count >= 10, b.starts(with: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) else { throw bad("missing \\x93NUMPY magic") }
    let major = Int(b[6])
    let lenBytes: Int
    switch major {
    case 1: lenBytes = 2
    case 2, 3: lenBytes = 4
    default: throw bad("unsupported format version \(major).\(b[7])")
    }
    guard b.count >= 8 + lenBytes else { throw bad("truncated") }
    var hlen = 0
    for k in 0..<lenBytes { hlen |= Int(b[8 + k]) << (8 * k) }
    let start = 8 + lenBytes
    guard start + hlen <= b.count else { throw bad("header length \(hlen) past the end") }
    let text = Array(b[start..<(start + hlen)])
    var parser = PyLiteralParser(text, fail: bad)
    var dict = try parser.parseDict()
    guard case .str(let descr)? = dict.removeValue(forKey: "descr") else { throw bad("no 'descr' string") }
    guard case .bool(let fortran)? = dict.removeValue(forKey: "fortran_order") else { throw bad("no 'fortran_order' bool") }
    guard case .ints(let shape)? = dict.removeValue(forKey: "shape") else { throw bad("no 'shape' tuple") }
    return NPYHeader(descr: descr, fortranOrder: fortran, shape: shape, dataOffset: start + hlen)
}

/// Just enough of Python's literal syntax for .npy headers: a dict of str keys whose values are
/// strings, True/False, or tuples of ints.
private struct PyLiteralParser {
    enum Value { case str(String), bool(Bool), ints([Int]) }
    let s: [UInt8]
    var i = 0
    let fail: (String) -> DatasetError
    init(_ s: [UInt8], fail: @escaping (String) -> DatasetError) { self.s = s; self.fail = fail }

    mutating func ws() { while i < s.count, s[i] == 0x20 || s[i] == 0x0A || s[i] == 0x09 || s[i] == 0x0D { i += 1 } }
    mutating func eat(_ c: Character) -> Bool { ws(); if i < s.count, s[i] == c.asciiValue! { i += 1; return true }; return false }
    mutating func expect(_ c: Character) throws { if !eat(c) { throw fail("expected '\(c)' at offset \(i)") } }

    mutating func parseDict() throws -> [String: Value] {
        try expect("{")
        var d: [String: Value] = [:]
        while !eat("}") {
            let key = try string()
            try expect(":")
            d[key] = try value()
            if !eat(",") { try expect("}"); break }
        }
        return d
    }
    mutating func string() throws -> String {
        ws()
        guard i < s.count, s[i] == 0x27 || s[i] == 0x22 else { throw fail("expected a string at offset \(i)") }
        let q = s[i]; i += 1
        let a = i
        while i < s.count, s[i] != q { i += 1 }
        guard i < s.count else { throw fail("unterminated string") }
        defer { i += 1 }
        return String(decoding: s[a..<i], as: UTF8.self)
    }
    mutating func word(_ w: String) -> Bool {
        let u = Array(w.utf8)
        if i + u.count <= s.count, Array(s[i..<(i + u.count)]) == u { i += u.count; return true }
        return false
    }
    mutating func value() throws -> Value {
        ws()
        guard i < s.count else { throw fail("value missing") }
        if s[i] == 0x27 || s[i] == 0x22 { return .str(try string()) }
        if word("True") { return .bool(true) }
        if word("False") { return .bool(false) }
        try expect("(")
        var xs: [Int] = []
        while !eat(")") {
            ws()
            let a = i
            while i < s.count, s[i] >= 0x30, s[i] <= 0x39 { i += 1 }
            guard i > a, let v = Int(String(decoding: s[a..<i], as: UTF8.self)) else { throw fail("expected an integer at offset \(a)") }
            if i < s.count, s[i] == 0x4C { i += 1 }  // Python 2 long suffix
            xs.append(v)
            if !eat(",") { try expect(")"); break }
        }
        return .ints(xs)
    }
}

// MARK: - streamed

/// Downsampled ImageNet's `data` array [N, 3·r·r] uint8 of one npz, read image by image (pread) from a
/// stored entry (np.savez, as the download's batches are): only the images asked for are in memory, so a
/// train split of ten 1.5 GB batches is read batch by batch by index. The entry's zip header, .npy header,
/// shape and size are checked when it is opened; its CRC is not (it would mean reading the whole entry),
/// and a file that shrinks after opening is a one-line error at the read. [N, 3, r, r]
public final class NPZImageSource: ImageSource, @unchecked Sendable {
    public let path: String
    public let count: Int, height: Int, width: Int
    public let channels = 3
    let file: PositionalFile
    let dataStart: Int    // file offset of image 0's first byte

    /// A deflated entry (np.savez_compressed) cannot be read by offset: nil, and the caller reads it whole.
    public static func open(path: String, resolution: Int) throws -> NPZImageSource? {
        precondition(resolution > 0)
        let file = try mappedFile(path)
        let found: (count: Int, start: Int)? = try file.withUnsafeBytes { (buf: UnsafeRawBufferPointer) in
            let (e, h) = try npzEntryHeader(buf, path: path, key: "data", check: imageNetDataCheck(path: path, resolution: resolution))
            guard e.method == 0 else { return nil }
            return (h.shape[0], try zipDataStart(buf, e, path: path) + h.dataOffset)
        }
        guard let (n, start) = found else { return nil }
        return try NPZImageSource(path: path, count: n, resolution: resolution, dataStart: start)
    }

    init(path: String, count: Int, resolution: Int, dataStart: Int) throws {
        file = try PositionalFile(path: path)
        self.path = path; self.count = count; height = resolution; width = resolution; self.dataStart = dataStart
    }

    public func read(_ range: Range<Int>) throws -> ImageBatch {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "images \(range) outside 0..<\(count)")
        var out = ImageBatch(count: range.count, channels: 3, height: height, width: width)
        try out.pixels.withUnsafeMutableBytes { try file.readFully(into: $0, at: dataStart + range.lowerBound * bytesPerImage) }
        return out
    }

    /// One pread per image (the images of a training batch are scattered over the file).
    public func gather(_ indices: [Int]) throws -> ImageBatch {
        try file.gather(indices, count: count, channels: 3, height: height, width: width) { dataStart + $0 * bytesPerImage }
    }
}
