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
    guard !bytes.isEmpty else { throw DatasetError(path, "empty file, expected CIFAR-10 records of \(rec) bytes") }
    guard bytes.count % rec == 0 else {
        let hint = bytes.count % (rec + 1) == 0 ? " (a multiple of 3074: CIFAR-100 binary, which has 2 label bytes, is not CIFAR-10)" : ""
        throw DatasetError(path, "size \(bytes.count) bytes is not a multiple of the CIFAR-10 record size \(rec) (\(bytes.count / rec) records + \(bytes.count % rec) bytes: truncated?)\(hint)")
    }
    let n = bytes.count / rec
    var labels = [UInt8](repeating: 0, count: n)
    var pixels = [UInt8](); pixels.reserveCapacity(n * plane)
    for i in 0..<n {
        let base = i * rec
        labels[i] = bytes[base]
        guard labels[i] < 10 else { throw DatasetError(path, "record \(i) has label \(labels[i]), CIFAR-10 labels are 0–9") }
        pixels.append(contentsOf: bytes[(base + 1)..<(base + rec)])
    }
    return (ImageBatch(count: n, channels: 3, height: 32, width: 32, pixels: pixels), labels)  // [N, 3, 32, 32]
}
