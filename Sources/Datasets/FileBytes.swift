import Foundation

/// The whole file's bytes; a missing file, a directory or an unreadable file is a DatasetError naming it.
public func readFileBytes(_ path: String) throws -> [UInt8] {
    try requireFile(path)
    guard let data = FileManager.default.contents(atPath: path) else { throw DatasetError(path, "cannot read file" + errnoSuffix(path)) }
    return [UInt8](data)
}

/// That `path` names a file, not a folder; otherwise a DatasetError naming it and saying why.
func requireFile(_ path: String) throws {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw DatasetError(path, whyMissing(path)) }
    if isDirectory.boolValue { throw DatasetError(path, "is a directory, expected a file") }
}

/// The file's size in bytes (nil: no such file, or not readable).
public func fileSize(_ path: String) -> Int? {
    (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int
}

/// Why a path cannot be opened, in a few words: a symlink loop, a name that is not UTF-8 (its bytes
/// were replaced on the way in, so no file of that name exists), no permission, or no such file.
public func whyMissing(_ path: String) -> String {
    var st = stat()
    if stat(path, &st) != 0 {
        switch errno {
        case ELOOP: return "too many levels of symbolic links (a symlink loop?)"
        case EACCES: return "permission denied"
        case ENAMETOOLONG: return "file name too long"
        case ENOTDIR: return "a part of the path is not a folder"
        default: break
        }
    }
    if path.contains("\u{FFFD}") { return "no such file (its name is not valid UTF-8, which tokbench cannot pass on: rename it)" }
    return "no such file"
}

func errnoSuffix(_ path: String) -> String {
    let fd = open(path, O_RDONLY)
    if fd >= 0 { close(fd); return "" }
    return " (" + String(cString: strerror(errno)) + ")"
}

/// A file read at offsets (pread), for the sources that read images by index from a file of fixed-size
/// records (a stored npz entry, CIFAR-10 batches): nothing is read until asked, and a file that shrinks
/// after it was opened is a one-line error naming it at the read that reaches past its end.
final class PositionalFile: @unchecked Sendable {
    let path: String
    let fd: Int32

    init(path: String) throws {
        try requireFile(path)
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw DatasetError(path, "cannot open: \(String(cString: strerror(errno)))") }
        self.path = path; self.fd = fd
    }

    deinit { close(fd) }

    /// The size in bytes now.
    func size() throws -> Int {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw DatasetError(path, "cannot stat: \(String(cString: strerror(errno)))") }
        return Int(st.st_size)
    }

    /// Exactly dst.count bytes from `offset`, or an error naming the file.
    func readFully(into dst: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < dst.count {
            let got = pread(fd, dst.baseAddress! + done, dst.count - done, off_t(offset + done))
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else {
                throw DatasetError(path, got == 0 ? "ends before its images do (truncated after it was opened?)" : "cannot read: \(String(cString: strerror(errno)))")
            }
            done += got
        }
    }

    /// The images at `indices`, one pread each (a training batch's images are scattered over the file):
    /// image i's C·H·W bytes start at `offset(i)`. `count` bounds the indices. [indices.count, C, H, W]
    func gather(_ indices: [Int], count: Int, channels: Int, height: Int, width: Int, offset: (Int) -> Int) throws -> ImageBatch {
        var out = ImageBatch(count: indices.count, channels: channels, height: height, width: width)
        let n = channels * height * width
        try out.pixels.withUnsafeMutableBytes { px in
            for (k, i) in indices.enumerated() {
                precondition(i >= 0 && i < count, "image \(i) outside 0..<\(count)")
                try readFully(into: UnsafeMutableRawBufferPointer(rebasing: px[(k * n)..<((k + 1) * n)]), at: offset(i))
            }
        }
        return out
    }
}
