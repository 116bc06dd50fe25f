import Foundation

/// One source photo and the tiles cut from it: tiles [N, 3, t, t].
public typealias PhotoTiles = (source: String, tiles: ImageBatch)

/// A train/eval split made by source photo: no photo has tiles on both sides.
public struct PhotoSplit: Sendable, CustomStringConvertible {
    public let train: ImageBatch        // [N_train, 3, t, t]
    public let eval: ImageBatch         // [N_eval, 3, t, t]
    public let trainSources: [String]   // photos whose tiles are in `train`
    public let evalSources: [String]    // photos whose tiles are in `eval`
    public let seed: UInt64

    public var description: String {
        "photos split by source photo (seed \(seed)): train \(trainSources.count) photos / \(train.count) tiles, eval \(evalSources.count) photos / \(eval.count) tiles"
    }
}

/// The "photos" dataset: real photographs Debian ships (apt-get install mate-backgrounds
/// plasma-workspace-wallpapers), box-downsampled by an integer factor so JPEG artefacts average
/// out, cut into non-overlapping tile×tile RGB tiles, split train/eval by source photo.
///
/// Downsampling: factor = max(2, round(shortSide / (6·tile))), so every photo is averaged over
/// at least 2×2 pixels and the short side keeps about 6 tiles (4–6 for the Debian photos):
/// e.g. 2560×1600 → factor 4 at tile 64 (640×400 → 10×6 tiles), factor 2 at tile 128
/// (1280×800 → 10×6). (A plain floor, max(1, short/(6·tile)), would leave 1024–1535 px short
/// sides undownsampled at tile 128, keeping their JPEG artefacts.) The tile grid is centred;
/// the remainder border is dropped. Grayscale photos are replicated to RGB.
public enum PhotoSet {
    public static let aptPackages = ["mate-backgrounds", "plasma-workspace-wallpapers"]
    public static let mateNatureFolder = "/usr/share/backgrounds/mate/nature"
    public static let wallpapersFolder = "/usr/share/wallpapers"
    /// Plasma wallpapers that are photographs (the others are rendered art and stay out).
    public static let plasmaPhotoNames = ["BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow", "FallenLeaf",
                                          "Grey", "Kite", "OneStandsOut", "Path", "Volna", "summer_1am"]

    /// The photo files present on this machine, in a fixed order: the images of the MATE
    /// nature folder (sorted), then for each Plasma photo wallpaper its largest image file
    /// (symlinks resolved, so aliases of one file count once).
    public static func sourceFiles() -> [String] {
        let fm = FileManager.default
        func images(in dir: String) -> [String] {
            let names = (try? fm.contentsOfDirectory(atPath: dir)) ?? []
            return names.filter { ["jpg", "jpeg", "png"].contains(($0 as NSString).pathExtension.lowercased()) }
                .sorted().map { (dir as NSString).appendingPathComponent($0) }
        }
        var out = images(in: mateNatureFolder).filter { fileSize($0) != nil }
        for name in plasmaPhotoNames {
            let dir = "\(wallpapersFolder)/\(name)/contents/images"
            let real = Set(images(in: dir).map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path })
            let best = real.compactMap { p in fileSize(p).map { (p, $0) } }
                .max { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 > $1.0 }  // largest file; ties: first name
            if let b = best { out.append(b.0) }
        }
        return out
    }

    /// The automatic downsampling factor: max(2, round(shortSide / (6·tile))), halves rounded up.
    public static func autoDownsample(shortSide: Int, tile: Int) -> Int { max(2, (shortSide + 3 * tile) / (6 * tile)) }

    /// A short readable name for a source: the wallpaper NAME for Plasma wallpapers
    /// (".../wallpapers/Volna/contents/images/5120x2880.jpg" → "Volna"), else the file name
    /// without extension.
    public static func displayName(_ source: String) -> String {
        let parts = source.split(separator: "/")
        if parts.count >= 4, parts[parts.count - 2] == "images", parts[parts.count - 3] == "contents" { return String(parts[parts.count - 4]) }
        return ((source as NSString).lastPathComponent as NSString).deletingPathExtension
    }

    /// Decodes, downsamples and tiles each photo. Photos too small for one tile are left out.
    /// downsample: a fixed factor, or nil for `autoDownsample`. files: default `sourceFiles()`.
    public static func buildTiles(tile: Int, downsample: Int? = nil, files: [String]? = nil) throws -> [PhotoTiles] {
        guard tile > 0, (downsample ?? 1) > 0 else {
            throw DatasetError("photos", "tile (\(tile)) and downsample (\(downsample.map(String.init) ?? "auto")) must be positive")
        }
        let files = files ?? sourceFiles()
        guard !files.isEmpty else {
            throw DatasetError(mateNatureFolder, "no photos found (apt-get install \(aptPackages.joined(separator: " ")))")
        }
        var out: [PhotoTiles] = []
        for f in files {
            let photo = convertChannels(try readImage(path: f), to: 3)   // [1, 3, H, W]
            let t = tiles(of: photo, tile: tile, downsample: downsample)
            if t.count > 0 { out.append((f, t)) }
        }
        return out
    }

    /// One photo [1, C, H, W] → its tiles [N, C, tile, tile] (downsampled first, grid centred).
    public static func tiles(of photo: ImageBatch, tile: Int, downsample: Int? = nil) -> ImageBatch {
        let factor = downsample ?? autoDownsample(shortSide: min(photo.height, photo.width), tile: tile)
        return cutTiles(boxDownsample(photo, factor: factor), tile: tile)
    }

    /// Splits by source photo: `evalPhotos` photos chosen by `seed` give the eval tiles, the rest
    /// train. Both sides keep the input order. Needs 1 ≤ evalPhotos < photos.count.
    public static func split(_ photos: [PhotoTiles], evalPhotos: Int, seed: UInt64) throws -> PhotoSplit {
        guard evalPhotos >= 1, evalPhotos < photos.count else {
            throw DatasetError("photos", "eval photos = \(evalPhotos) but there are \(photos.count) photos: need 1 ≤ eval photos < \(photos.count)")
        }
        let evalSet = Set(seededPermutation(photos.count, seed: seed).prefix(evalPhotos))
        let evalPart = photos.indices.filter { evalSet.contains($0) }.map { photos[$0] }
        let trainPart = photos.indices.filter { !evalSet.contains($0) }.map { photos[$0] }
        return PhotoSplit(train: concatenateTiles(trainPart.map(\.tiles)), eval: concatenateTiles(evalPart.map(\.tiles)),
                          trainSources: trainPart.map(\.source), evalSources: evalPart.map(\.source), seed: seed)
    }

    static func concatenateTiles(_ parts: [ImageBatch]) -> ImageBatch {
        guard let f = parts.first else { return ImageBatch(count: 0, channels: 3, height: 1, width: 1) }
        return parts.count == 1 ? f : ImageBatch.concatenate(parts)
    }
}

// MARK: - downsampling and tiling

/// Box downsample by an integer factor f: each output pixel is the mean of an f×f block,
/// rounded half up; the bottom/right remainder (H mod f, W mod f) is dropped.
/// image: [B, C, H, W] → [B, C, H/f, W/f]
public func boxDownsample(_ image: ImageBatch, factor f: Int) -> ImageBatch {
    precondition(f >= 1)
    if f == 1 { return image }
    let oh = image.height / f, ow = image.width / f
    var out = ImageBatch(count: image.count, channels: image.channels, height: oh, width: ow)
    let area = UInt32(f * f), half = area / 2
    let inPlane = image.height * image.width, outPlane = oh * ow
    image.pixels.withUnsafeBufferPointer { src in
        out.pixels.withUnsafeMutableBufferPointer { dst in
            var acc = [UInt32](repeating: 0, count: ow)
            for plane in 0..<(image.count * image.channels) {
                let s = src.baseAddress! + plane * inPlane, d = dst.baseAddress! + plane * outPlane
                for oy in 0..<oh {
                    for i in 0..<ow { acc[i] = 0 }
                    for dy in 0..<f {
                        let row = s + (oy * f + dy) * image.width
                        for ox in 0..<ow {
                            var sum: UInt32 = 0
                            for dx in 0..<f { sum &+= UInt32(row[ox * f + dx]) }
                            acc[ox] &+= sum
                        }
                    }
                    for ox in 0..<ow { d[oy * ow + ox] = UInt8((acc[ox] + half) / area) }
                }
            }
        }
    }
    return out
}

/// Non-overlapping tile×tile tiles of one image, in row-major grid order; the grid is centred
/// and the leftover border dropped. image: [1, C, H, W] → [(H/t)·(W/t), C, t, t]
public func cutTiles(_ image: ImageBatch, tile t: Int) -> ImageBatch {
    precondition(image.count == 1 && t > 0)
    let ny = image.height / t, nx = image.width / t
    let y0 = (image.height - ny * t) / 2, x0 = (image.width - nx * t) / 2
    var out = ImageBatch(count: ny * nx, channels: image.channels, height: t, width: t)
    let plane = image.height * image.width
    image.pixels.withUnsafeBufferPointer { src in
        out.pixels.withUnsafeMutableBufferPointer { dst in
            var o = 0
            for ty in 0..<ny { for tx in 0..<nx { for c in 0..<image.channels { for y in 0..<t {
                let row = src.baseAddress! + c * plane + (y0 + ty * t + y) * image.width + x0 + tx * t
                (dst.baseAddress! + o).update(from: row, count: t)
                o += t
            } } } }
        }
    }
    return out
}

// MARK: - tile cache

/// One binary file per tile size, so the photos are decoded once (`tokbench data photos`).
/// Layout (little-endian): "TBPHOTO1", u32 tile, u32 channels (3), u32 photos, u64 tiles,
/// u32 n + n bytes signature (UTF-8: downsample rule + each source's path, size, mtime),
/// then per photo u32 n + n bytes path, u32 tile count; then all tiles [N, 3, t, t] in photo order.
extension PhotoSet {
    static let cacheMagic = Array("TBPHOTO1".utf8)

    public static func cacheFile(cacheDir: String, tile: Int) -> String {
        (cacheDir as NSString).appendingPathComponent("photos-\(tile).tiles")
    }

    /// `tokbench data photos`: cuts and caches the tiles of each size, saying what the split holds.
    public static func prepare(cacheDir: String, tiles: [Int], evalPhotos: Int, seed: UInt64, say: (String) -> Void) throws {
        say("\(sourceFiles().count) source photos (\(aptPackages.joined(separator: ", ")))")
        for t in tiles {
            let start = Date()
            let file = try prepare(cacheDir: cacheDir, tile: t)
            let split = try load(cacheDir: cacheDir, tile: t, evalPhotos: evalPhotos, seed: seed)
            say(String(format: "tiles %dx%d: %d train tiles from %d photos, %d eval tiles from %d photos (seed %llu) -> %@ (%.1fs)",
                       t, t, split.train.count, split.trainSources.count, split.eval.count, split.evalSources.count, seed, file,
                       Date().timeIntervalSince(start)))
        }
    }

    /// Ensures the cache for `tile` exists and matches the photos on this machine (same files,
    /// sizes, mtimes and downsample rule), building it if not. Returns the cache file's path.
    @discardableResult
    public static func prepare(cacheDir: String, tile: Int, downsample: Int? = nil) throws -> String {
        let path = cacheFile(cacheDir: cacheDir, tile: tile)
        let files = sourceFiles()
        let signature = sourceSignature(files: files, downsample: downsample)
        if let h = try? readCacheHeader(path: path), h.signature == signature, h.tile == tile { return path }
        let photos = try buildTiles(tile: tile, downsample: downsample, files: files)
        do { try FileManager.default.createDirectory(atPath: cacheDir, withIntermediateDirectories: true) } catch {
            throw DatasetError(cacheDir, "cannot create cache folder")
        }
        try writeCache(photos, tile: tile, signature: signature, to: path)
        return path
    }

    /// prepare + loadCache + split: the photos dataset in one call.
    public static func load(cacheDir: String, tile: Int, evalPhotos: Int, seed: UInt64) throws -> PhotoSplit {
        try split(try loadCache(path: prepare(cacheDir: cacheDir, tile: tile)), evalPhotos: evalPhotos, seed: seed)
    }

    static func sourceSignature(files: [String], downsample: Int?) -> String {
        var lines = ["downsample=\(downsample.map(String.init) ?? "auto: max(2, round(short/(6*tile)))")"]
        for f in files {
            let a = try? FileManager.default.attributesOfItem(atPath: f)
            let size = a?[.size] as? Int ?? -1
            let mtime = (a?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            lines.append("\(f)\t\(size)\t\(Int(mtime))")
        }
        return lines.joined(separator: "\n")
    }

    public static func writeCache(_ photos: [PhotoTiles], tile: Int, signature: String, to path: String) throws {
        var d = [UInt8](); d.reserveCapacity(1 << 16)
        func u32(_ v: Int) { for k in 0..<4 { d.append(UInt8(truncatingIfNeeded: v >> (8 * k))) } }
        func str(_ s: String) { let u = Array(s.utf8); u32(u.count); d.append(contentsOf: u) }
        let total = photos.reduce(0) { $0 + $1.tiles.count }
        d += cacheMagic
        u32(tile); u32(3); u32(photos.count); u32(total); u32(total >> 32)
        str(signature)
        for p in photos {
            precondition(p.tiles.channels == 3 && p.tiles.height == tile && p.tiles.width == tile)
            str(p.source); u32(p.tiles.count)
        }
        var data = Data(d)
        data.reserveCapacity(d.count + total * 3 * tile * tile)
        for p in photos { data.append(contentsOf: p.tiles.pixels) }
        do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw DatasetError(path, "cannot write photo tile cache")
        }
    }

    struct CacheHeader { var tile: Int; var signature: String; var photos: [(String, Int)]; var dataOffset: Int; var total: Int }

    static func parseCacheHeader(_ b: UnsafeRawBufferPointer, path: String) throws -> CacheHeader {
        var o = 0
        func bad() -> DatasetError { DatasetError(path, "not a photo tile cache or damaged (delete it to rebuild)") }
        func u32() throws -> Int {
            guard o + 4 <= b.count else { throw bad() }
            defer { o += 4 }
            return Int(b[o]) | Int(b[o + 1]) << 8 | Int(b[o + 2]) << 16 | Int(b[o + 3]) << 24
        }
        func str() throws -> String {
            let n = try u32()
            guard o + n <= b.count else { throw bad() }
            defer { o += n }
            return String(decoding: UnsafeRawBufferPointer(rebasing: b[o..<(o + n)]), as: UTF8.self)
        }
        guard b.count >= 8, Array(b[0..<8]) == cacheMagic else { throw bad() }
        o = 8
        let tile = try u32(), channels = try u32(), count = try u32()
        let total = try u32() | (try u32()) << 32
        guard channels == 3, tile > 0, tile <= 4096 else { throw bad() }
        let sig = try str()
        var photos: [(String, Int)] = []
        for _ in 0..<count { photos.append((try str(), try u32())) }
        guard photos.reduce(0, { $0 + $1.1 }) == total else { throw bad() }
        return CacheHeader(tile: tile, signature: sig, photos: photos, dataOffset: o, total: total)
    }

    static func readCacheHeader(path: String) throws -> CacheHeader {
        guard let h = FileHandle(forReadingAtPath: path) else { throw DatasetError(path, whyMissing(path)) }
        defer { try? h.close() }
        let head = h.readData(ofLength: 1 << 20)
        return try head.withUnsafeBytes { try parseCacheHeader($0, path: path) }
    }

    /// Reads a cache written by `prepare`/`writeCache`: one entry per photo, tiles [N, 3, t, t].
    public static func loadCache(path: String) throws -> [PhotoTiles] {
        let data = try mappedFile(path)
        return try data.withUnsafeBytes { b in
            let h = try parseCacheHeader(b, path: path)
            let per = 3 * h.tile * h.tile
            guard h.total <= b.count / per, b.count == h.dataOffset + h.total * per else {
                throw DatasetError(path, "photo tile cache has \(b.count) bytes, header says \(h.dataOffset + h.total * per) (damaged; delete it to rebuild)")
            }
            var o = h.dataOffset
            return h.photos.map { name, n in
                let px = [UInt8](UnsafeRawBufferPointer(rebasing: b[o..<(o + n * per)]))
                o += n * per
                return (name, ImageBatch(count: n, channels: 3, height: h.tile, width: h.tile, pixels: px))
            }
        }
    }
}
