/// IDX image files (MNIST / Fashion-MNIST), optionally gzip-compressed:
/// magic 0x00000803 (unsigned byte, 3 dimensions), then N, rows, cols as big-endian UInt32,
/// then N·rows·cols bytes. Returns images: [N, 1, rows, cols].
public func readIDXImages(path: String, limit: Int? = nil) throws -> ImageBatch {
    let raw = try gunzip(try readFileBytes(path), path: path)
    return try parseIDXImages(raw, path: path, limit: limit)
}

public func parseIDXImages(_ bytes: [UInt8], path: String, limit: Int? = nil) throws -> ImageBatch {
    func be32(_ o: Int) -> Int { Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3]) }
    guard bytes.count >= 16 else { throw DatasetError(path, "IDX file too short for a header (\(bytes.count) bytes)") }
    let magic = be32(0)
    guard magic == 0x0000_0803 else {
        throw DatasetError(path, "bad IDX magic number 0x\(String(magic, radix: 16)) (expected 0x803: unsigned bytes, 3 dimensions)")
    }
    let n = be32(4), rows = be32(8), cols = be32(12)
    guard rows > 0, cols > 0, rows <= 65536, cols <= 65536 else { throw DatasetError(path, "bad IDX image size \(rows)x\(cols)") }
    let need = 16 + n * rows * cols
    guard bytes.count >= need else {
        throw DatasetError(path, "IDX file truncated: header says \(n) images of \(rows)x\(cols) (\(need) bytes), file has \(bytes.count)")
    }
    let take = min(n, limit ?? n)
    return ImageBatch(count: take, channels: 1, height: rows, width: cols,
                      pixels: Array(bytes[16..<(16 + take * rows * cols)]))
}
