/// A batch of 8-bit images, channel-planar: pixels[b, c, y, x] at ((b·C + c)·H + y)·W + x.
/// pixels: [B, C, H, W] UInt8
public struct ImageBatch: Equatable, Sendable {
    public var count: Int      // B
    public var channels: Int   // C (1 gray, 3 RGB)
    public var height: Int     // H
    public var width: Int      // W
    public var pixels: [UInt8]

    public init(count: Int, channels: Int, height: Int, width: Int, pixels: [UInt8]) {
        precondition(pixels.count == count * channels * height * width, "pixel count does not match [B, C, H, W]")
        self.count = count; self.channels = channels; self.height = height; self.width = width
        self.pixels = pixels
    }

    public init(count: Int, channels: Int, height: Int, width: Int) {
        self.init(count: count, channels: channels, height: height, width: width,
                  pixels: [UInt8](repeating: 0, count: count * channels * height * width))
    }

    /// Bytes of one image: C·H·W.
    public var bytesPerImage: Int { channels * height * width }

    /// The images at `indices`, in that order.
    public func subset(_ indices: [Int]) -> ImageBatch {
        let n = bytesPerImage
        var out = [UInt8](); out.reserveCapacity(indices.count * n)
        for i in indices { out.append(contentsOf: pixels[(i * n)..<((i + 1) * n)]) }
        return ImageBatch(count: indices.count, channels: channels, height: height, width: width, pixels: out)
    }

    public func slice(_ range: Range<Int>) -> ImageBatch { subset(Array(range)) }

    /// One image as interleaved HWC bytes (the layout of PNG rows and of most codecs).
    public func interleaved(_ index: Int) -> [UInt8] {
        let plane = height * width, base = index * bytesPerImage
        if channels == 1 { return Array(pixels[base..<(base + plane)]) }
        var out = [UInt8](repeating: 0, count: bytesPerImage)
        for c in 0..<channels { for p in 0..<plane { out[p * channels + c] = pixels[base + c * plane + p] } }
        return out
    }

    /// Builds a one-image batch from interleaved HWC bytes.
    public static func fromInterleaved(_ hwc: [UInt8], channels: Int, height: Int, width: Int) -> ImageBatch {
        let plane = height * width
        var out = [UInt8](repeating: 0, count: hwc.count)
        for c in 0..<channels { for p in 0..<plane { out[c * plane + p] = hwc[p * channels + c] } }
        return ImageBatch(count: 1, channels: channels, height: height, width: width, pixels: out)
    }

    /// Concatenates batches of the same shape.
    public static func concatenate(_ batches: [ImageBatch]) -> ImageBatch {
        guard let first = batches.first else { return ImageBatch(count: 0, channels: 1, height: 1, width: 1) }
        var out = [UInt8](); out.reserveCapacity(batches.reduce(0) { $0 + $1.pixels.count })
        for b in batches {
            precondition(b.channels == first.channels && b.height == first.height && b.width == first.width)
            out.append(contentsOf: b.pixels)
        }
        return ImageBatch(count: out.count / first.bytesPerImage, channels: first.channels,
                          height: first.height, width: first.width, pixels: out)
    }
}
