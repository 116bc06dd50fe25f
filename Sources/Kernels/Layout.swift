// Layout conversions between the public NCHW layout and the engine's internal channel-major
// [C, B, H, W] layout (which lets one GEMM cover the whole batch with no per-layer transposes).

/// src: [B, C, HW] → dst: [C, B, HW].
public func nchwToChannelMajor(_ src: UnsafePointer<Float>, batch B: Int, channels C: Int, spatial HW: Int,
                               into dst: UnsafeMutablePointer<Float>) {
    parallelFor(B * C, minimumPerTask: max(1, 8192 / max(1, HW))) { t in
        let b = t / C, c = t % C
        (dst + (c * B + b) * HW).update(from: src + (b * C + c) * HW, count: HW)
    }
}

/// src: [C, B, HW] → dst: [B, C, HW].
public func channelMajorToNCHW(_ src: UnsafePointer<Float>, batch B: Int, channels C: Int, spatial HW: Int,
                               into dst: UnsafeMutablePointer<Float>) {
    parallelFor(B * C, minimumPerTask: max(1, 8192 / max(1, HW))) { t in
        let b = t / C, c = t % C
        (dst + (b * C + c) * HW).update(from: src + (c * B + b) * HW, count: HW)
    }
}
