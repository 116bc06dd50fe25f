import Foundation
import Datasets
import Kernels

/// `tokbench bench pairs`: the folder pair the evaluation benchmark (scripts/bench-eval.sh) scores at scale.
/// N side × side RGB crops of the Debian photographs (PhotoSet.sourceFiles), each a random square of a random
/// size (side … the photo's short side) at a random place, area-resized to side × side; reconstructions are
/// their JPEG round trips at `quality` (libjpeg-turbo, 4:2:0), stored as PNG under the same names; tokens are
/// one per 16 × 16 patch, its mean colour at 5 bits per channel (V = 32768), [N, L] int32 — structured like a
/// tokenizer's, with neighbours that predict each other. Deterministic in `seed`.
public enum EvalPairs {
    public static let vocabulary = 32768
    public static let patch = 16

    /// from: a folder of source photos (PNG/JPEG) instead of the Debian ones.
    public static func make(count: Int, side: Int, quality: Int, seed: UInt64, folder: String, from: String? = nil, say: (String) -> Void) throws {
        let photos = try from.map { try listImageFiles($0, extensions: pngAndJPEGExtensions) } ?? PhotoSet.sourceFiles()
        guard !photos.isEmpty else { throw DatasetError(PhotoSet.mateNatureFolder, "no photos found (apt-get install \(PhotoSet.aptPackages.joined(separator: " ")))") }
        guard side % patch == 0 else { throw DatasetError("<pairs>", "side \(side) is not a multiple of \(patch)") }
        let fm = FileManager.default
        for sub in ["originals", "reconstructions"] {
            try fm.createDirectory(atPath: folder + "/" + sub, withIntermediateDirectories: true)
        }
        let L = (side / patch) * (side / patch)
        var tokens = [Int32](repeating: 0, count: count * L)
        var done = 0
        for (p, file) in photos.enumerated() {
            let mine = stride(from: p, to: count, by: photos.count).map { $0 }
            if mine.isEmpty { continue }
            let photo = try readImage(path: file)   // [1, C, H, W]
            let rgb = convertChannels(photo, to: 3)
            let short = min(rgb.height, rgb.width)
            guard short >= side else { throw DatasetError(file, "is smaller than \(side) pixels") }
            var failure: Error? = nil
            let lock = NSLock()
            tokens.withUnsafeMutableBufferPointer { tok in
                DispatchQueue.concurrentPerform(iterations: mine.count) { k in
                    let i = mine[k]
                    var rng = SplitMix64(seed: seed &+ UInt64(i) &* 0x9E37_79B9)
                    let s = side + Int(rng.next() % UInt64(short - side + 1))
                    let y0 = Int(rng.next() % UInt64(rgb.height - s + 1)), x0 = Int(rng.next() % UInt64(rgb.width - s + 1))
                    var crop = ImageBatch(count: 1, channels: 3, height: s, width: s)
                    for c in 0..<3 { for y in 0..<s { for x in 0..<s {
                        crop.pixels[(c * s + y) * s + x] = rgb.pixels[(c * rgb.height + y0 + y) * rgb.width + x0 + x]
                    } } }
                    let image = centerCropAreaResize(crop, side: side)
                    do {
                        let name = String(format: "%06d.png", i)
                        try Data(encodePNG(image, level: 1)).write(to: URL(fileURLWithPath: folder + "/originals/" + name))
                        let jpeg = try decodeJPEG(try encodeJPEG(image, quality: quality), path: name)
                        try Data(encodePNG(jpeg, level: 1)).write(to: URL(fileURLWithPath: folder + "/reconstructions/" + name))
                    } catch { lock.lock(); failure = error; lock.unlock() }
                    let g = side / patch, plane = side * side
                    for ty in 0..<g { for tx in 0..<g {
                        var code = 0
                        for c in 0..<3 {
                            var sum = 0
                            for y in 0..<patch { for x in 0..<patch { sum += Int(image.pixels[c * plane + (ty * patch + y) * side + tx * patch + x]) } }
                            code = code << 5 | (sum / (patch * patch)) >> 3
                        }
                        tok[i * L + ty * g + tx] = Int32(code)
                    } }
                }
            }
            if let failure { throw failure }
            done += mine.count
            say("  \(done) of \(count) pairs (\(PhotoSet.displayName(file)))")
        }
        try Data(encodeNPY(int32: tokens, shape: [count, L])).write(to: URL(fileURLWithPath: folder + "/tokens.npy"))
    }
}
