import Foundation
import Datasets

/// Stacks same-size image strips (PNG files) into one grid: row 0 the originals, then one row
/// per run, separated by white lines; small images are enlarged ×k (nearest) to stay visible.
enum ReconstructionGrid {
    /// strips: PNG paths, all the same size. Returns the grid as PNG bytes.
    static func compose(strips: [String], minRowHeight: Int = 56) throws -> [UInt8] {
        let images = try strips.map { try readPNG(path: $0) }
        guard let first = images.first else { throw DatasetError("<grid>", "no strips") }
        for (p, im) in zip(strips, images) where im.width != first.width || im.height != first.height {
            throw DatasetError(p, "strip is \(im.width)x\(im.height), expected \(first.width)x\(first.height)")
        }
        let k = max(1, Int((Double(minRowHeight) / Double(first.height)).rounded(.up)))
        let gap = 2
        let W = first.width * k, rowH = first.height * k
        let H = images.count * rowH + (images.count - 1) * gap
        let C = images.map(\.channels).max()!
        var grid = ImageBatch(count: 1, channels: C, height: H, width: W, pixels: [UInt8](repeating: 255, count: C * H * W))
        for (r, im0) in images.enumerated() {
            let im = convertChannels(im0, to: C)
            for c in 0..<C { for y in 0..<rowH { for x in 0..<W {
                grid.pixels[(c * H + r * (rowH + gap) + y) * W + x] = im.pixels[(c * im.height + y / k) * im.width + x / k]
            } } }
        }
        return try encodePNG(grid)
    }
}
