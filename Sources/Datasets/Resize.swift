/// Center-crops an image to a square and area-resizes it to side × side.
/// Area resize: each output pixel is the mean of the input area it covers (exact box filter with
/// fractional edge weights), rounded half up. image: [1, C, H, W] → [1, C, side, side]
public func centerCropAreaResize(_ image: ImageBatch, side: Int) -> ImageBatch {
    precondition(image.count == 1 && side > 0)
    let s = min(image.height, image.width)
    let y0 = (image.height - s) / 2, x0 = (image.width - s) / 2
    if s == side && image.height == s && image.width == s { return image }
    var out = ImageBatch(count: 1, channels: image.channels, height: side, width: side)
    let scale = Double(s) / Double(side)
    // Weights of input columns/rows for each output index (same for x and y).
    var spans: [[(Int, Double)]] = []
    for o in 0..<side {
        let a = Double(o) * scale, b = Double(o + 1) * scale
        var span: [(Int, Double)] = []
        var i = Int(a.rounded(.down))
        while Double(i) < b && i < s {
            let w = min(b, Double(i + 1)) - max(a, Double(i))
            if w > 1e-12 { span.append((i, w)) }
            i += 1
        }
        spans.append(span)
    }
    let area = scale * scale
    for c in 0..<image.channels {
        let inBase = c * image.height * image.width, outBase = c * side * side
        for oy in 0..<side {
            for ox in 0..<side {
                var acc = 0.0
                for (iy, wy) in spans[oy] {
                    let row = inBase + (y0 + iy) * image.width + x0
                    for (ix, wx) in spans[ox] { acc += wy * wx * Double(image.pixels[row + ix]) }
                }
                out.pixels[outBase + oy * side + ox] = UInt8(min(255, max(0, (acc / area + 0.5).rounded(.down))))
            }
        }
    }
    return out
}
