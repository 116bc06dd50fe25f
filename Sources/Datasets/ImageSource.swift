import Foundation

/// A split as a list of same-shape images that can be read in chunks (ARCHITECTURE.md, "Data flow"):
/// the streaming evaluator and the external protocol read eval images this way, so a split never has
/// to be in memory whole. read: [range.count, C, H, W]
public protocol ImageSource: Sendable {
    var count: Int { get }       // N
    var channels: Int { get }    // C
    var height: Int { get }      // H
    var width: Int { get }       // W
    func read(_ range: Range<Int>) throws -> ImageBatch
    /// The images at `indices`, in that order (a training batch). [indices.count, C, H, W]
    func gather(_ indices: [Int]) throws -> ImageBatch
}

extension ImageSource {
    public var bytesPerImage: Int { channels * height * width }

    /// One image at a time (a source with a faster way overrides it).
    public func gather(_ indices: [Int]) throws -> ImageBatch {
        var out = ImageBatch(count: indices.count, channels: channels, height: height, width: width)
        let n = bytesPerImage
        for (k, i) in indices.enumerated() { out.pixels.replaceSubrange((k * n)..<((k + 1) * n), with: try read(i..<(i + 1)).pixels) }
        return out
    }
}

/// The first `count` images of another source, read from it (nothing is copied until a read).
public struct FirstImages: ImageSource {
    public let base: any ImageSource
    public let count: Int
    public var channels: Int { base.channels }
    public var height: Int { base.height }
    public var width: Int { base.width }
    public init(_ base: any ImageSource, count: Int) { self.base = base; self.count = max(0, min(count, base.count)) }
    public func read(_ range: Range<Int>) throws -> ImageBatch {
        precondition(range.upperBound <= count, "images \(range) outside the first \(count)")
        return try base.read(range)
    }
    public func gather(_ indices: [Int]) throws -> ImageBatch {
        precondition(indices.allSatisfy { $0 < count }, "an index outside the first \(count) images")
        return try base.gather(indices)
    }
}

/// An in-memory batch is a source of its own images.
extension ImageBatch: ImageSource {
    public func read(_ range: Range<Int>) throws -> ImageBatch { slice(range) }
    public func gather(_ indices: [Int]) throws -> ImageBatch { subset(indices) }
}

/// PNG/JPEG files decoded chunk by chunk, the files of a chunk in parallel on all cores. Either every file
/// must be width × height with `channels` (checked from its header before it is decoded:
/// `readImage(expect:)`), or (`conformingTo:`) each is brought to side × side by `preprocess` and converted
/// to the channels, as `readImageFiles` does.
public struct ImageFileSource: ImageSource {
    public let files: [String]
    public let channels: Int, height: Int, width: Int
    let conforms: Bool
    var preprocess = Preprocess.area
    public var count: Int { files.count }

    public init(files: [String], conformingTo side: Int, channels: Int, preprocess: Preprocess = .area) throws {
        guard !files.isEmpty else { throw DatasetError("<image files>", "no files") }
        self.files = files; (self.channels, height, width) = (channels, side, side); conforms = true
        self.preprocess = preprocess
    }

    /// The shape comes from the first file unless given.
    public init(files: [String], shape: (channels: Int, height: Int, width: Int)? = nil) throws {
        guard let first = files.first else { throw DatasetError("<image files>", "no files") }
        self.files = files; conforms = false
        if let s = shape { (channels, height, width) = s } else {
            let im = try readImage(path: first)
            (channels, height, width) = (im.channels, im.height, im.width)
        }
    }

    /// Every file's header against the shape (conforming: only that it parses and is within the pixel
    /// cap), before anything is decoded (a few KB read per file, in parallel): a set that cannot be read
    /// is refused before it is used. Throws for the first bad file in list order.
    public func checkHeaders() throws {
        var failures = [Error?](repeating: nil, count: files.count)
        failures.withUnsafeMutableBufferPointer { fail in
            DispatchQueue.concurrentPerform(iterations: files.count) { k in
                do {
                    let h = try imageHeader(path: files[k])
                    try ImageLimits.check(width: h.width, height: h.height, expect: conforms ? nil : (width, height), path: files[k], maxPixels: ImageLimits.maxPixels)
                    if !conforms && h.channels != channels {
                        fail[k] = DatasetError(files[k], "is \(h.width)x\(h.height)x\(h.channels), the first image is \(width)x\(height)x\(channels)")
                    }
                } catch { fail[k] = error }
            }
        }
        if let f = failures.compactMap({ $0 }).first { throw f }
    }

    public func read(_ range: Range<Int>) throws -> ImageBatch { try gather(Array(range)) }

    /// The files at `indices` decoded in parallel; a bad file throws (the first in `indices` order).
    public func gather(_ indices: [Int]) throws -> ImageBatch {
        var out = ImageBatch(count: indices.count, channels: channels, height: height, width: width)
        let n = bytesPerImage
        var failures = [Error?](repeating: nil, count: indices.count)
        out.pixels.withUnsafeMutableBufferPointer { px in
            failures.withUnsafeMutableBufferPointer { fail in
                DispatchQueue.concurrentPerform(iterations: indices.count) { k in
                    let f = files[indices[k]]
                    do {
                        let im = conforms ? conform(try readImage(path: f), side: width, channels: channels, preprocess: preprocess) : try readImage(path: f, expect: (width, height))
                        guard (im.width, im.height, im.channels) == (width, height, channels) else {
                            fail[k] = DatasetError(f, "is \(im.width)x\(im.height)x\(im.channels), the first image is \(width)x\(height)x\(channels)"); return
                        }
                        im.pixels.withUnsafeBufferPointer { src in
                            for j in 0..<n { px[k * n + j] = src[j] }
                        }
                    } catch { fail[k] = error }
                }
            }
        }
        if let f = failures.compactMap({ $0 }).first { throw f }
        return out
    }
}

/// A uint8 .npy array [N, H, W, C] (C = 1 or 3; or [N, H, W] gray) read through a memory map: a chunk is
/// converted to [B, C, H, W] when it is read, and only the pages of that chunk are resident.
public final class NPYImageSource: ImageSource, @unchecked Sendable {
    public let path: String
    public let count: Int, channels: Int, height: Int, width: Int
    let map: UnsafeMutableRawPointer
    let mapLength: Int
    let dataOffset: Int

    public init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw DatasetError(path, "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { throw DatasetError(path, "not a regular file") }
        let size = Int(st.st_size)
        guard size >= 10 else { throw DatasetError(path, "too short for a .npy file") }
        guard let m = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), m != MAP_FAILED else {
            throw DatasetError(path, "cannot map: \(String(cString: strerror(errno)))")
        }
        let headerBytes = Array(UnsafeRawBufferPointer(start: m, count: min(size, 65_536 + 12)))
        let header: NPYHeader
        do { header = try parseNPYHeader(headerBytes, path: path, name: (path as NSString).lastPathComponent) } catch { munmap(m, size); throw error }
        map = m; mapLength = size; self.path = path; dataOffset = header.dataOffset
        let s = header.shape
        guard header.isUInt8, !header.fortranOrder, s.count == 3 || s.count == 4,
              s.count == 3 || s[3] == 1 || s[3] == 3 else {
            munmap(m, size)
            throw DatasetError(path, "expected uint8 images [N, H, W, C] (C = 1 or 3) in C order, got '\(header.descr)' \(s)")
        }
        (count, height, width, channels) = (s[0], s[1], s[2], s.count == 4 ? s[3] : 1)
        let need: Int
        do { need = try header.elementCount(path: path, name: (path as NSString).lastPathComponent) } catch { munmap(m, size); throw error }
        guard height * width <= ImageLimits.maxPixels else {
            munmap(m, size)
            throw DatasetError(path, "images of \(width)x\(height) are above the \(ImageLimits.maxPixels)-pixel cap (TOKBENCH_MAX_IMAGE_PIXELS)")
        }
        guard count >= 1, height >= 1, width >= 1, dataOffset + need == size else {
            munmap(m, size)
            throw DatasetError(path, "holds \(size - dataOffset) data bytes, its header \(s) needs \(need)")
        }
    }

    deinit { munmap(map, mapLength) }

    public func read(_ range: Range<Int>) throws -> ImageBatch {
        var out = ImageBatch(count: range.count, channels: channels, height: height, width: width)
        let plane = height * width, n = bytesPerImage, C = channels
        let base = map.assumingMemoryBound(to: UInt8.self) + dataOffset
        out.pixels.withUnsafeMutableBufferPointer { px in
            for k in 0..<range.count {
                let src = base + (range.lowerBound + k) * n   // [H, W, C]
                for p in 0..<plane { for c in 0..<C { px[k * n + c * plane + p] = src[p * C + c] } }
            }
        }
        return out
    }
}

/// Several same-shape sources one after another (a dataset's train batches), read from them in order.
public struct ConcatenatedImages: ImageSource {
    public let parts: [any ImageSource]
    let starts: [Int]            // image index where each part begins; starts.last = count
    public let channels: Int, height: Int, width: Int
    public var count: Int { starts.last ?? 0 }

    public init(_ parts: [any ImageSource]) {
        precondition(!parts.isEmpty, "no parts to concatenate")
        let (c, h, w) = (parts[0].channels, parts[0].height, parts[0].width)
        precondition(parts.allSatisfy { ($0.channels, $0.height, $0.width) == (c, h, w) }, "parts of different shapes")
        self.parts = parts; (channels, height, width) = (c, h, w)
        var s = [0]
        for p in parts { s.append(s.last! + p.count) }
        starts = s
    }

    /// The part holding image i and its index there.
    func locate(_ i: Int) -> (part: Int, index: Int) {
        precondition(i >= 0 && i < count, "image \(i) outside 0..<\(count)")
        var lo = 0, hi = parts.count - 1     // the last part whose start ≤ i
        while lo < hi { let mid = (lo + hi + 1) / 2; if starts[mid] <= i { lo = mid } else { hi = mid - 1 } }
        return (lo, i - starts[lo])
    }

    public func read(_ range: Range<Int>) throws -> ImageBatch {
        var out = ImageBatch(count: range.count, channels: channels, height: height, width: width)
        var i = range.lowerBound
        while i < range.upperBound {
            let (p, j) = locate(i)
            let n = min(range.upperBound - i, parts[p].count - j)
            let piece = try parts[p].read(j..<(j + n))
            let at = (i - range.lowerBound) * bytesPerImage
            out.pixels.replaceSubrange(at..<(at + piece.pixels.count), with: piece.pixels)
            i += n
        }
        return out
    }

    public func gather(_ indices: [Int]) throws -> ImageBatch {
        var out = ImageBatch(count: indices.count, channels: channels, height: height, width: width)
        var byPart: [Int: [(slot: Int, index: Int)]] = [:]
        for (k, i) in indices.enumerated() { let (p, j) = locate(i); byPart[p, default: []].append((k, j)) }
        let n = bytesPerImage
        for (p, items) in byPart {
            let piece = try parts[p].gather(items.map(\.index))
            for (m, item) in items.enumerated() {
                out.pixels.replaceSubrange((item.slot * n)..<((item.slot + 1) * n), with: piece.pixels[(m * n)..<((m + 1) * n)])
            }
        }
        return out
    }
}

/// The images of another source at `indices` (a seeded eval subset), read from it when asked.
public struct SubsetImages: ImageSource {
    public let base: any ImageSource
    public let indices: [Int]
    public var count: Int { indices.count }
    public var channels: Int { base.channels }
    public var height: Int { base.height }
    public var width: Int { base.width }
    public init(_ base: any ImageSource, indices: [Int]) {
        precondition(indices.allSatisfy { $0 >= 0 && $0 < base.count }, "an index outside the \(base.count) images")
        self.base = base; self.indices = indices
    }
    /// `n` of the base's images chosen by `seed`, in their order: the same images as `ImageBatch.seededSubset`.
    public static func seeded(_ base: any ImageSource, _ n: Int, seed: UInt64) -> SubsetImages {
        SubsetImages(base, indices: Array(seededPermutation(base.count, seed: seed).prefix(n)).sorted())
    }
    public func read(_ range: Range<Int>) throws -> ImageBatch { try base.gather(Array(indices[range])) }
    public func gather(_ picked: [Int]) throws -> ImageBatch { try base.gather(picked.map { indices[$0] }) }
}

/// Another source's images converted to `channels` when read (`convertChannels`: gray → RGB by
/// replication, RGB → gray by Rec. 601 luma).
public struct ChannelsConverted: ImageSource {
    public let base: any ImageSource
    public let channels: Int
    public var count: Int { base.count }
    public var height: Int { base.height }
    public var width: Int { base.width }
    public init(_ base: any ImageSource, to channels: Int) { self.base = base; self.channels = channels }
    public func read(_ range: Range<Int>) throws -> ImageBatch { convertChannels(try base.read(range), to: channels) }
    public func gather(_ indices: [Int]) throws -> ImageBatch { convertChannels(try base.gather(indices), to: channels) }
}

/// Another source's images brought to side × side and `channels` when read (`conform`: area resize,
/// then gray ↔ RGB as `convertChannels`), as the whole-batch path conforms them.
public struct ConformedImages: ImageSource {
    public let base: any ImageSource
    public let channels: Int, height: Int, width: Int
    public var count: Int { base.count }
    public init(_ base: any ImageSource, side: Int, channels: Int) { self.base = base; self.channels = channels; height = side; width = side }
    public func read(_ range: Range<Int>) throws -> ImageBatch { conform(try base.read(range), side: width, channels: channels) }
    public func gather(_ indices: [Int]) throws -> ImageBatch { conform(try base.gather(indices), side: width, channels: channels) }
}
