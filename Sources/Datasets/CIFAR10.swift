/// CIFAR-10 binary batches (`cifar-10-batches-bin/data_batch_1.bin` … `test_batch.bin`):
/// records of 1 label byte (0–9) + 1024 R + 1024 G + 1024 B bytes (32×32, row-major planes),
/// so each record's pixels are already channel-planar [3, 32, 32].
public let cifar10RecordBytes = 1 + 3 * 32 * 32  // 3073

/// images: [N, 3, 32, 32], labels: [N] (0–9).
public func readCIFAR10Batch(path: String) throws -> (images: ImageBatch, labels: [UInt8]) {
    try parseCIFAR10Batch(try readFileBytes(path), path: path)
}

public func parseCIFAR10Batch(_ bytes: [UInt8], path: String) throws -> (images: ImageBatch, labels: [UInt8]) {
    let rec = cifar10RecordBytes, plane = 3 * 32 * 32
    let n = try cifar10Records(fileSize: bytes.count, path: path)
    var labels = [UInt8](repeating: 0, count: n)
    var pixels = [UInt8](); pixels.reserveCapacity(n * plane)
    for i in 0..<n {
        let base = i * rec
        labels[i] = try cifar10Label(bytes[base], record: i, path: path)
        pixels.append(contentsOf: bytes[(base + 1)..<(base + rec)])
    }
    return (ImageBatch(count: n, channels: 3, height: 32, width: 32, pixels: pixels), labels)  // [N, 3, 32, 32]
}

/// The number of records in a batch file of `fileSize` bytes: a whole, non-zero number of 3073-byte records.
func cifar10Records(fileSize: Int, path: String) throws -> Int {
    let rec = cifar10RecordBytes
    guard fileSize > 0 else { throw DatasetError(path, "empty file, expected CIFAR-10 records of \(rec) bytes") }
    guard fileSize % rec == 0 else {
        let hint = fileSize % (rec + 1) == 0 ? " (a multiple of 3074: CIFAR-100 binary, which has 2 label bytes, is not CIFAR-10)" : ""
        throw DatasetError(path, "size \(fileSize) bytes is not a multiple of the CIFAR-10 record size \(rec) (\(fileSize / rec) records + \(fileSize % rec) bytes: truncated?)\(hint)")
    }
    return fileSize / rec
}

func cifar10Label(_ label: UInt8, record i: Int, path: String) throws -> UInt8 {
    guard label < 10 else { throw DatasetError(path, "record \(i) has label \(label), CIFAR-10 labels are 0–9") }
    return label
}

/// One CIFAR-10 batch file read record by record (pread): only the images asked for are in memory, so a
/// train split of five batches is read batch by batch by index. When it is opened its size is checked
/// and every label (read 1,024 records at a time), as `parseCIFAR10Batch` checks them. [N, 3, 32, 32]
public struct CIFAR10ImageSource: ImageSource {
    public let path: String
    public let count: Int
    public let channels = 3, height = 32, width = 32
    let file: PositionalFile
    static let chunkRecords = 1024

    public init(path: String) throws {
        file = try PositionalFile(path: path)
        self.path = path
        count = try cifar10Records(fileSize: try file.size(), path: path)
        var at = 0
        while at < count {
            let n = min(Self.chunkRecords, count - at)
            let records = try self.records(at..<(at + n))
            for k in 0..<n { _ = try cifar10Label(records[k * cifar10RecordBytes], record: at + k, path: path) }
            at += n
        }
    }

    /// The raw records (label byte + planes) of `range`, one pread.
    func records(_ range: Range<Int>) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: range.count * cifar10RecordBytes)
        try out.withUnsafeMutableBytes { try file.readFully(into: $0, at: range.lowerBound * cifar10RecordBytes) }
        return out
    }

    /// 1,024 records a pread, their label bytes dropped.
    public func read(_ range: Range<Int>) throws -> ImageBatch {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "images \(range) outside 0..<\(count)")
        var out = ImageBatch(count: range.count, channels: 3, height: 32, width: 32)
        let n = bytesPerImage
        var at = range.lowerBound
        while at < range.upperBound {
            let m = min(Self.chunkRecords, range.upperBound - at)
            let recs = try records(at..<(at + m))
            for k in 0..<m {
                let slot = at - range.lowerBound + k
                out.pixels.replaceSubrange((slot * n)..<((slot + 1) * n), with: recs[(k * cifar10RecordBytes + 1)..<((k + 1) * cifar10RecordBytes)])
            }
            at += m
        }
        return out
    }

    /// One pread per image (the images of a training batch are scattered over the file), past its label byte.
    public func gather(_ indices: [Int]) throws -> ImageBatch {
        try file.gather(indices, count: count, channels: 3, height: 32, width: 32) { $0 * cifar10RecordBytes + 1 }
    }
}
