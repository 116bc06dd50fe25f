// How an image file of any size becomes the R × R image a run sees. The choice is named, recorded with
// every run (the dataset spec, its split description and the data-rate cache key), and two of the three
// are the pipelines tokenizer papers use on ImageNet, reproduced exactly:
//   area         tokbench's own: center crop to a square, then an exact area (box) resize.
//   adm          ADM / LlamaGen `center_crop_arr`: halve with PIL's BOX filter while the short side
//                is ≥ 2R, PIL BICUBIC so the short side is R (each size rounded half to even, as
//                Python's round), then a center crop (offsets floored).
//   torchvision  torchvision `Resize(R, BICUBIC)` + `CenterCrop(R)` on a PIL image: PIL BICUBIC (which
//                always antialiases) to short side R (the long side R·long/short truncated), then a
//                center crop (offsets rounded half to even).
// PIL's resampling is Pillow's `ImagingResample` (src/libImaging/Resample.c) for 8-bit images: per output
// pixel the filter's weights over the input pixels it covers (the support grows with the downscale
// factor), normalised in Double, turned into 22-bit fixed point; two passes, each rounded and clipped to
// 8 bits: horizontal then vertical, or vertical first when the height shrinks by more than twice what the
// width does (Pillow 13's order). Tests hold adm and torchvision equal to Pillow 13.0 and torchvision 0.29
// on fixtures made by bench/make_preprocess_fixtures.py.

public enum Preprocess: String, Codable, CaseIterable, Sendable {
    case area = "area"
    case adm = "adm"
    case torchvision = "torchvision"

    /// One line for split descriptions and reports.
    public var summary: String {
        switch self {
        case .area: return "center crop + area resize"
        case .adm: return "ADM center_crop_arr (PIL box halving, PIL bicubic, center crop)"
        case .torchvision: return "torchvision Resize + CenterCrop (PIL bicubic, antialiased)"
        }
    }

    /// image [1, C, H, W] → [1, C, R, R].
    public func apply(_ image: ImageBatch, side r: Int) -> ImageBatch {
        precondition(image.count == 1 && r > 0)
        switch self {
        case .area:
            return centerCropAreaResize(image, side: r)
        case .adm:
            var im = image
            while min(im.width, im.height) >= 2 * r {
                im = PILResample.resize(im, width: im.width / 2, height: im.height / 2, filter: .box)
            }
            let scale = Double(r) / Double(min(im.width, im.height))
            let w = Int((Double(im.width) * scale).rounded(.toNearestOrEven))
            let h = Int((Double(im.height) * scale).rounded(.toNearestOrEven))
            im = PILResample.resize(im, width: w, height: h, filter: .bicubic)
            return crop(im, top: (h - r) / 2, left: (w - r) / 2, side: r)
        case .torchvision:
            let (h, w) = (image.height, image.width)
            let short = min(h, w), long = max(h, w)
            let newLong = Int(Double(r * long) / Double(short))
            let (nw, nh) = w <= h ? (r, newLong) : (newLong, r)
            let im = PILResample.resize(image, width: nw, height: nh, filter: .bicubic)
            let top = Int((Double(nh - r) / 2).rounded(.toNearestOrEven))
            let left = Int((Double(nw - r) / 2).rounded(.toNearestOrEven))
            return crop(im, top: top, left: left, side: r)
        }
    }

    func crop(_ im: ImageBatch, top: Int, left: Int, side r: Int) -> ImageBatch {
        precondition(top >= 0 && left >= 0 && top + r <= im.height && left + r <= im.width)
        if top == 0 && left == 0 && im.height == r && im.width == r { return im }
        var out = ImageBatch(count: 1, channels: im.channels, height: r, width: r)
        for c in 0..<im.channels {
            for y in 0..<r {
                let src = (c * im.height + top + y) * im.width + left, dst = (c * r + y) * r
                for x in 0..<r { out.pixels[dst + x] = im.pixels[src + x] }
            }
        }
        return out
    }
}

/// Pillow's two-pass resampling of 8-bit images, operation for operation (see the file's header).
public enum PILResample {
    public enum Filter: Sendable {
        case box, bicubic
        var support: Double { self == .box ? 0.5 : 2.0 }
        @inline(__always) func weight(_ t: Double) -> Double {
            switch self {
            case .box:
                return t > -0.5 && t <= 0.5 ? 1 : 0
            case .bicubic:   // a = −0.5
                let a = -0.5, x = t < 0 ? -t : t
                if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
                if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
                return 0
            }
        }
    }

    static let precisionBits = 32 - 8 - 2

    /// Pillow's precompute_coeffs + normalize_coeffs_8bpc for one axis: per output index its first input
    /// index, its count and its fixed-point weights [outSize, ksize].
    static func coefficients(inSize: Int, outSize: Int, filter: Filter) -> (ksize: Int, first: [Int], count: [Int], weights: [Int]) {
        let scale = Double(inSize) / Double(outSize)
        let filterscale = max(scale, 1.0)
        let support = filter.support * filterscale
        let ksize = Int(support.rounded(.up)) * 2 + 1
        var first = [Int](repeating: 0, count: outSize), count = [Int](repeating: 0, count: outSize)
        var weights = [Int](repeating: 0, count: outSize * ksize)
        var k = [Double](repeating: 0, count: ksize)
        for xx in 0..<outSize {
            let center = 0.0 + (Double(xx) + 0.5) * scale
            var ww = 0.0
            let ss = 1.0 / filterscale
            var xmin = Int(center - support + 0.5)   // C's (int): toward zero
            if xmin < 0 { xmin = 0 }
            var xmax = Int(center + support + 0.5)
            if xmax > inSize { xmax = inSize }
            xmax -= xmin
            for x in 0..<ksize { k[x] = 0 }
            for x in 0..<max(xmax, 0) {
                let w = filter.weight((Double(x + xmin) - center + 0.5) * ss)
                k[x] = w
                ww += w
            }
            for x in 0..<max(xmax, 0) where ww != 0 { k[x] /= ww }
            for x in 0..<ksize {
                let v = k[x] * Double(1 << precisionBits)
                weights[xx * ksize + x] = k[x] < 0 ? Int(-0.5 + v) : Int(0.5 + v)
            }
            first[xx] = xmin; count[xx] = max(xmax, 0)
        }
        return (ksize, first, count, weights)
    }

    @inline(__always) static func clip8(_ v: Int) -> UInt8 { UInt8(min(max(v >> precisionBits, 0), 255)) }

    /// image [1, C, H, W] → [1, C, height, width], as PIL's Image.resize((width, height), filter).
    /// Pass order as Pillow 13: vertical first when the height shrinks by more than twice what the width
    /// does, else horizontal first (Pillow ≤ 12 always went horizontal first; the two differ by at most
    /// 1 on some pixels of such images).
    public static func resize(_ image: ImageBatch, width: Int, height: Int, filter: Filter) -> ImageBatch {
        precondition(image.count == 1 && width > 0 && height > 0)
        let (h, w) = (image.height, image.width)
        if width == w && height == h { return image }
        let verticalFirst = h - height > 0 && h - height > (w - width) * 2
        var im = image
        if verticalFirst {
            if height != h { im = vertical(im, height: height, filter: filter) }
            if width != w { im = horizontal(im, width: width, filter: filter) }
        } else {
            if width != w { im = horizontal(im, width: width, filter: filter) }
            if height != h { im = vertical(im, height: height, filter: filter) }
        }
        return im
    }

    /// [1, C, h, w] → [1, C, h, width].
    static func horizontal(_ im: ImageBatch, width: Int, filter: Filter) -> ImageBatch {
        let (c, h, w) = (im.channels, im.height, im.width)
        let co = coefficients(inSize: w, outSize: width, filter: filter)
        var out = ImageBatch(count: 1, channels: c, height: h, width: width)
        let half = 1 << (precisionBits - 1)
        for ch in 0..<c {
            for y in 0..<h {
                let row = (ch * h + y) * w, orow = (ch * h + y) * width
                for xx in 0..<width {
                    var ss = half
                    let x0 = co.first[xx], kb = xx * co.ksize
                    for x in 0..<co.count[xx] { ss += Int(im.pixels[row + x0 + x]) * co.weights[kb + x] }
                    out.pixels[orow + xx] = clip8(ss)
                }
            }
        }
        return out
    }

    /// [1, C, h, w] → [1, C, height, w].
    static func vertical(_ im: ImageBatch, height: Int, filter: Filter) -> ImageBatch {
        let (c, h, w) = (im.channels, im.height, im.width)
        let co = coefficients(inSize: h, outSize: height, filter: filter)
        var out = ImageBatch(count: 1, channels: c, height: height, width: w)
        let half = 1 << (precisionBits - 1)
        for ch in 0..<c {
            for yy in 0..<height {
                let y0 = co.first[yy], kb = yy * co.ksize, orow = (ch * height + yy) * w
                for x in 0..<w {
                    var ss = half
                    for y in 0..<co.count[yy] { ss += Int(im.pixels[(ch * h + y0 + y) * w + x]) * co.weights[kb + y] }
                    out.pixels[orow + x] = clip8(ss)
                }
            }
        }
        return out
    }
}
