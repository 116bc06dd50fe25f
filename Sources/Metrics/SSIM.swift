import Foundation
import Datasets
import MetricCatalogue

/// Structural similarity (Wang et al. 2004) on 8-bit images: Gaussian window 11×11, σ = 1.5,
/// K1 = 0.01, K2 = 0.03, L = 255, statistics over the *valid* window positions (as the
/// authors' MATLAB code), computed per channel and averaged; per image, then the mean over
/// images. Images smaller than 11 pixels use a window of their smaller side.
public enum SSIM {
    public static let k1 = 0.01, k2 = 0.03, sigma = 1.5, window = 11

    /// Normalised 1-D Gaussian of `size` taps.
    static func gaussian(_ size: Int) -> [Double] {
        let c = Double(size - 1) / 2
        let g = (0..<size).map { exp(-(Double($0) - c) * (Double($0) - c) / (2 * sigma * sigma)) }
        let s = g.reduce(0, +)
        return g.map { $0 / s }
    }

    /// SSIM of one channel plane. x, y: [H, W]
    public static func plane(_ x: ArraySlice<UInt8>, _ y: ArraySlice<UInt8>, height H: Int, width W: Int) -> Double {
        let n = min(window, H, W)
        let g = gaussian(n)
        let c1 = (k1 * 255) * (k1 * 255), c2 = (k2 * 255) * (k2 * 255)
        let xb = x.startIndex, yb = y.startIndex
        // Separable filtering of x, y, x², y², xy: rows first (valid), then columns (valid).
        let OW = W - n + 1, OH = H - n + 1
        var rows = [[Double]](repeating: [Double](repeating: 0, count: H * OW), count: 5)
        for r in 0..<H {
            for o in 0..<OW {
                var s = (0.0, 0.0, 0.0, 0.0, 0.0)
                for k in 0..<n {
                    let a = Double(x[xb + r * W + o + k]), b = Double(y[yb + r * W + o + k]), w = g[k]
                    s.0 += w * a; s.1 += w * b; s.2 += w * a * a; s.3 += w * b * b; s.4 += w * a * b
                }
                let i = r * OW + o
                rows[0][i] = s.0; rows[1][i] = s.1; rows[2][i] = s.2; rows[3][i] = s.3; rows[4][i] = s.4
            }
        }
        var total = 0.0
        for r in 0..<OH {
            for o in 0..<OW {
                var m = [0.0, 0.0, 0.0, 0.0, 0.0]
                for k in 0..<n { for q in 0..<5 { m[q] += g[k] * rows[q][(r + k) * OW + o] } }
                let (mx, my) = (m[0], m[1])
                let vx = m[2] - mx * mx, vy = m[3] - my * my, cov = m[4] - mx * my
                total += ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
            }
        }
        return total / Double(OH * OW)
    }

    /// Per-image SSIM (the mean over channels), [B]. original, reconstruction: [B, C, H, W]
    public static func perImage(original: ImageBatch, reconstruction: ImageBatch) -> [Double] {
        precondition(original.count == reconstruction.count && original.bytesPerImage == reconstruction.bytesPerImage)
        let plane = original.height * original.width
        var perImage = [Double](repeating: 0, count: original.count)
        perImage.withUnsafeMutableBufferPointer { out in
        DispatchQueue.concurrentPerform(iterations: original.count) { i in
            var s = 0.0
            for c in 0..<original.channels {
                let o = (i * original.channels + c) * plane
                s += Self.plane(original.pixels[o..<(o + plane)], reconstruction.pixels[o..<(o + plane)],
                                height: original.height, width: original.width)
            }
            out[i] = s / Double(original.channels)
        }
        }
        return perImage
    }
}

/// Per-image SSIM chunk by chunk (each chunk's images in parallel), finished into the mean and its interval.
public final class SSIMAccumulator: MetricAccumulator {
    var perImage: [Double] = []   // [N]
    public init() {}
    public func consume(_ chunk: EvalChunk) {
        perImage += SSIM.perImage(original: chunk.originals, reconstruction: chunk.reconstructions)
    }
    public func save(_ w: inout StateWriter) { w.doubles(perImage) }
    public func restore(_ r: inout StateReader) throws { perImage = try r.doubles() }
    public func finish() -> Accumulated {
        let interval = Statistics.normalInterval(perImage)
        var values: [MetricValue] = [(.ssim, interval.mean)]
        if let h = interval.halfWidth { values.append((.ssimCI95, h)) }
        return Accumulated(values: values, perImage: [(.ssim, perImage)])
    }
}
