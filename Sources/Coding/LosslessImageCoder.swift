// Lossless image coder: prediction + binary context mixing of the residual.
//
// Format: [header][arithmetic-coded body: pixels, then an 8-bit check hash of the pixels]
//   header byte 0: bits 0–1 shape (0 explicit, 1 = 28×28, 2 = 32×32, 3 = 64×64),
//                  bit 2 channels (0 → 1, 1 → 3), bit 3 model (0 cold start, 1 fitted),
//                  bits 4–7 magic 0b1010 (format version);
//   explicit shape: width and height as LEB128 varints follow.
// Each image is coded independently: all model state starts fresh (cold start) or from the
// fitted prior table (fitted), never from a previous image.
//
// Per pixel (channels in the order G, R, B; or the single gray channel):
//   1. PixelPredictor gives an integer prediction P (weighted blend + bias cancellation).
//   2. The residual e = v − P (v, P ∈ [0, 255], so e ∈ [−P, 255 − P]) is binarised:
//        zero flag (e == 0) → sign (skipped when only one sign is possible) →
//        magnitude m = |e| ≥ 1 as bucket b = ⌊log2 m⌋ in unary ("b > t?" for t = 0, 1, …, stopping
//        at the largest bucket the range allows) → the b mantissa bits of m, MSB first (bits that
//        would exceed the range are skipped).
//   3. Each binary decision ("node") is predicted by several adaptive bit models whose contexts
//      describe the pixel's surroundings (ResidualModel), mixed in the logistic domain and refined
//      by an SSE stage, then arithmetic coded.

public struct DecodedImage: Equatable, Sendable {
    public var pixels: [UInt8]        // [H, W, C] interleaved
    public var width: Int
    public var height: Int
    public var channels: Int
    public init(pixels: [UInt8], width: Int, height: Int, channels: Int) {
        self.pixels = pixels; self.width = width; self.height = height; self.channels = channels
    }
}

public enum LosslessImageCoder {
    public enum Model: Int, Sendable, CaseIterable {
        /// All model state starts from hand-set neutral priors.
        case coldStart = 0
        /// Bit models start from probabilities fitted on the Fashion-MNIST train split (gray only;
        /// colour channels fall back to cold start).
        case fitted = 1
    }

    static let magic = 0b1010
    /// Largest image the decoder accepts (bounds memory and time on corrupt headers).
    public static let maxPixels = 1 << 24
    /// Every coded value costs ≥ 0.0007 bits (probabilities are clamped to [2^-11, 1 − 2^-11]; the
    /// coder's rounding can at worst halve that), so a body of B bytes holds at most
    /// ≈ 23 000·(B + 4) values; the decoder rejects headers claiming more before allocating.
    static let maxValuesPerByte = 25_000

    /// Code one image. pixels: [H, W, C] interleaved, channels 1 or 3.
    public static func encode(pixels: [UInt8], width: Int, height: Int, channels: Int,
                              model: Model = .coldStart) -> [UInt8] {
        encode(pixels: pixels, width: width, height: height, channels: channels, model: model,
               prior: model == .fitted ? FittedPrior.fashionMNIST : nil)
    }

    /// Code with an explicit prior (for fitting experiments; `decode(_:prior:)` must get the same).
    public static func encode(pixels: [UInt8], width: Int, height: Int, channels: Int,
                              prior: FittedPrior?) -> [UInt8] {
        encode(pixels: pixels, width: width, height: height, channels: channels,
               model: prior == nil ? .coldStart : .fitted, prior: prior)
    }

    static func encode(pixels: [UInt8], width: Int, height: Int, channels: Int,
                       model: Model, prior: FittedPrior?) -> [UInt8] {
        precondition(channels == 1 || channels == 3, "channels must be 1 or 3")
        precondition(width > 0 && height > 0 && pixels.count == width * height * channels,
                     "pixel count must be width·height·channels")
        var header: [UInt8] = []
        let shape: Int
        switch (width, height) {
        case (28, 28): shape = 1
        case (32, 32): shape = 2
        case (64, 64): shape = 3
        default: shape = 0
        }
        // The prior applies to gray images only; otherwise the stream is (and says) cold start.
        let prior = model == .fitted && channels == 1 ? prior : nil
        let used: Model = prior == nil ? .coldStart : .fitted
        header.append(UInt8(magic << 4 | used.rawValue << 3 | (channels == 3 ? 4 : 0) | shape))
        if shape == 0 { appendVarint(width, to: &header); appendVarint(height, to: &header) }
        var enc = BinaryArithmeticEncoder(header: header)
        var residualModel = ResidualModel(channels: channels, prior: prior)
        var unused: [UInt8] = []
        codeImage(coder: &enc, model: &residualModel, pixels: pixels, out: &unused, width: width,
                  height: height, channels: channels, encoding: true)
        enc.encode(rawBits: UInt64(checkByte(pixels)), count: 8)
        return enc.finish()
    }

    /// Decode one image; throws `CodingError` on a malformed, truncated or corrupt stream.
    public static func decode(_ data: [UInt8]) throws -> DecodedImage {
        try decode(data, prior: FittedPrior.fashionMNIST)
    }

    /// Decode with an explicit prior for `.fitted` streams (see `encode(pixels:…:prior:)`).
    public static func decode(_ data: [UInt8], prior: FittedPrior?) throws -> DecodedImage {
        guard let h0 = data.first else { throw CodingError.truncated }
        guard Int(h0 >> 4) == magic else { throw CodingError.corrupt("bad magic") }
        guard let model = Model(rawValue: Int(h0 >> 3) & 1) else { throw CodingError.corrupt("model") }
        let channels = h0 & 4 != 0 ? 3 : 1
        var pos = 1
        let width: Int, height: Int
        switch h0 & 3 {
        case 1: width = 28; height = 28
        case 2: width = 32; height = 32
        case 3: width = 64; height = 64
        default:
            width = try readVarint(data, &pos)
            height = try readVarint(data, &pos)
        }
        guard width > 0, height > 0, width <= maxPixels, height <= maxPixels,
              width * height <= maxPixels else { throw CodingError.corrupt("bad size") }
        guard width * height * channels <= (data.count - pos + 4) * maxValuesPerByte else {
            throw CodingError.corrupt("size exceeds what the body can hold")
        }
        if model == .fitted && (channels != 1 || prior == nil) { throw CodingError.corrupt("no fitted prior for this stream") }
        var dec = BinaryArithmeticDecoder(data: data, start: pos)
        var out = [UInt8](repeating: 0, count: width * height * channels)
        var residualModel = ResidualModel(channels: channels, prior: model == .fitted ? prior : nil)
        codeImage(coder: &dec, model: &residualModel, pixels: [], out: &out, width: width,
                  height: height, channels: channels, encoding: false)
        if dec.isExhausted { throw CodingError.truncated }
        if dec.decode(rawBits: 8) != UInt64(checkByte(out)) { throw CodingError.corrupt("check byte mismatch") }
        try dec.finish()
        return DecodedImage(pixels: out, width: width, height: height, channels: channels)
    }

    /// The shared coding path: when `encoding`, values come from `pixels`; otherwise they are
    /// decoded into `out`. Stops early if a decoder runs past its input (finish() then throws).
    static func codeImage<C: BinaryCoder>(coder: inout C, model residualModel: inout ResidualModel,
                                          pixels: [UInt8], out: inout [UInt8],
                                          width: Int, height: Int, channels: Int, encoding: Bool) {
        var predictor = PixelPredictor(width: width, height: height, channels: channels)
        let order = channels == 3 ? [1, 0, 2] : [0]   // G first, then R (from G), then B (from G, R)
        for y in 0..<height {
            if coder.isExhausted { return }
            for x in 0..<width {
                for (slot, c) in order.enumerated() {
                    // ref: the previous channel (R ← G, B ← R; also the cross-residual context);
                    // ref2: B's second reference, G.
                    let ref = slot == 0 ? -1 : order[slot - 1]
                    let ref2 = slot == 2 ? order[0] : -1
                    predictor.predict(c, y, x, ref: ref, ref2: ref2)
                    let idx = (y * width + x) * channels + c
                    let value = encoding ? Int(pixels[idx]) : 0
                    residualModel.setContexts(predictor: predictor, channel: c, slot: slot, y: y, x: x, ref: ref)
                    let v = residualModel.codeValue(coder: &coder, value: value, prediction: predictor.prediction)
                    if !encoding { out[idx] = UInt8(v) }
                    predictor.update(c, y, x, value: v)
                }
                predictor.endPixel()
            }
        }
    }

    /// 8-bit FNV-1a hash of the pixels, coded (at 8 bits) after the body: a decode that went wrong
    /// anywhere is caught with probability 255/256, on top of the coder's stream-end checks.
    static func checkByte(_ px: [UInt8]) -> UInt8 {
        var h: UInt32 = 2_166_136_261
        for b in px { h = (h ^ UInt32(b)) &* 16_777_619 }
        return UInt8(truncatingIfNeeded: h ^ (h >> 8) ^ (h >> 16) ^ (h >> 24))
    }

    static func appendVarint(_ v: Int, to bytes: inout [UInt8]) {
        var v = v
        while v >= 128 { bytes.append(UInt8(v & 127) | 128); v >>= 7 }
        bytes.append(UInt8(v))
    }

    static func readVarint(_ data: [UInt8], _ pos: inout Int) throws -> Int {
        var v = 0, shift = 0
        while true {
            guard pos < data.count else { throw CodingError.truncated }
            let b = data[pos]; pos += 1
            v |= Int(b & 127) << shift
            if b < 128 { return v }
            shift += 7
            guard shift < 35 else { throw CodingError.corrupt("varint too long") }
        }
    }
}
