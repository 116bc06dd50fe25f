// Pixel prediction for the lossless image coder: a self-correcting weighted blend of simple
// predictors (the JPEG XL "weighted predictor" / TMW idea) plus per-context bias cancellation
// (the CALIC / JPEG-LS idea).
//
// Each channel is a plane [H, W] read from the interleaved HWC input. For every pixel, k sub-
// predictors guess the value — 10 fixed ones (W+NE−N, N, W, MED, N+NE−NNE, (W+NE)/2, N+W−NW,
// (N+W)/2, 2N−NN, 2W−WW) and an online least-squares fit (OnlineLeastSquares) — and each one's
// absolute error is remembered at every coded pixel. The blend weights each sub-predictor by
// 1 / (2 + its error around the pixel)^3 (gray; ^2 for colour), so the predictor that has been
// right locally (along an edge, in flat background, in texture) dominates.
// For RGB, G is coded first; R and B get 4 extra sub-predictors that add G's local "shape"
// (G − G's neighbour) to their own neighbour — inter-channel prediction; B also gets 4 from R.
//
// All values are fixed point ×8 (3 fractional bits) until the final rounding.

@usableFromInline struct Neighbourhood {
    // Causal neighbours of the current pixel in its own plane (edge-replicated, 0 at the origin).
    var n = 0, w = 0, nw = 0, ne = 0, nn = 0, ww = 0, nne = 0
}

@usableFromInline struct PixelPredictor {
    static let ownPredictors = 11            // 10 fixed + online least squares
    static let leastSquaresIndex = 10
    static let crossPredictors = 4
    /// Colour: up to two reference channels (B uses G and R) × 4 cross predictors.
    static let colourPredictors = ownPredictors + 2 * crossPredictors
    let width: Int, height: Int, channels: Int
    let k: Int                                  // number of sub-predictors (11 gray, 19 colour)
    // Rolling 3-row buffers (rows y, y−1, y−2 are all prediction needs), so memory is O(width):
    /// values[c][slot(y) + x]
    var values: [[Int32]]
    /// Abs error ×8 of each sub-predictor: subErrors[c][(slot(y) + x)·k + i]
    var subErrors: [[Int32]]
    /// Signed final residual v − P (×1) at each coded pixel: residuals[c][slot(y) + x]
    var residuals: [[Int32]]
    /// Bias cancellation (JPEG-LS style): per (channel, context) error sum B since the last
    /// correction step, count N and integer correction C. C moves by at most one level per pixel,
    /// so one surprising pixel (an edge, the first pixel) cannot throw a context off.
    var biasSum: [Int32], biasCount: [Int32], biasCorrection: [Int32]
    static let biasContexts = 256
    /// Gray: the least-squares fit over the 7 own-channel neighbours. Colour: the three channels'
    /// fits over 11 features (7 own neighbours; the reference channel's value, N and W; B's second
    /// reference), advanced together once per pixel (`endPixel`).
    var gray: OnlineLeastSquares
    var colour: JointLeastSquares

    // Per-pixel scratch, filled by `predict`.
    var sub = SIMD32<Int>()                     // the sub-predictors' guesses ×8 (k used); a value, no heap
    /// The blend's weight table (grayWeights or colourWeights).
    let blendWeights: [Int64]
    var nb = Neighbourhood()
    var blended8 = 0                           // weighted prediction ×8 before bias correction
    var biasContext = 0
    var prediction = 0                         // final integer prediction P ∈ [0, 255]

    init(width: Int, height: Int, channels: Int) {
        self.width = width; self.height = height; self.channels = channels
        k = channels == 1 ? Self.ownPredictors : Self.colourPredictors
        blendWeights = channels == 1 ? Self.grayWeights : Self.colourWeights
        let n = width * 3
        values = [[Int32]](repeating: [Int32](repeating: 0, count: n), count: channels)
        subErrors = [[Int32]](repeating: [Int32](repeating: 0, count: n * k), count: channels)
        residuals = [[Int32]](repeating: [Int32](repeating: 0, count: n), count: channels)
        biasSum = [Int32](repeating: 0, count: Self.biasContexts * channels)
        biasCount = [Int32](repeating: 0, count: Self.biasContexts * channels)
        biasCorrection = [Int32](repeating: 0, count: Self.biasContexts * channels)
        gray = OnlineLeastSquares(features: channels == 3 ? 0 : 7, lambda: 0.993)
        colour = JointLeastSquares(features: channels == 3 ? 11 : 0, lambda: 0.993)
    }

    /// Blend weights (1 << 40) / e³ and (1 << 28) / e², exactly, for e < weightTableSize (e ≥ 2).
    static let weightTableSize = 1 << 14
    static let grayWeights: [Int64] = (0..<weightTableSize).map { (e: Int) -> Int64 in
        let cube: Int = e * e * e
        return e < 2 ? 0 : Int64((1 << 40) / cube)
    }
    static let colourWeights: [Int64] = (0..<weightTableSize).map { (e: Int) -> Int64 in
        let square: Int = e * e
        return e < 2 ? 0 : Int64((1 << 28) / square)
    }

    /// Start of row y in the rolling buffers.
    @inline(__always) func slot(_ y: Int) -> Int { (y % 3) * width }
    @inline(__always) func v(_ c: Int, _ y: Int, _ x: Int) -> Int { Int(values[c][slot(y) + x]) }

    func neighbourhood(_ c: Int, _ y: Int, _ x: Int) -> Neighbourhood {
        var r = Neighbourhood()
        let w1 = width
        r.w = x > 0 ? v(c, y, x - 1) : (y > 0 ? v(c, y - 1, x) : 0)
        r.n = y > 0 ? v(c, y - 1, x) : r.w
        r.nw = (x > 0 && y > 0) ? v(c, y - 1, x - 1) : r.n
        r.ne = (y > 0 && x + 1 < w1) ? v(c, y - 1, x + 1) : r.n
        r.ww = x > 1 ? v(c, y, x - 2) : r.w
        r.nn = y > 1 ? v(c, y - 2, x) : r.n
        r.nne = (y > 1 && x + 1 < w1) ? v(c, y - 2, x + 1) : r.ne
        return r
    }

    /// Sum of a sub-predictor's abs errors around (y, x): 2·(N + W) + NW + NE (+ WW, NN).
    @inline(__always) func localError(_ c: Int, _ y: Int, _ x: Int, _ i: Int) -> Int {
        subErrors[c].withUnsafeBufferPointer { localError($0, y, x, i) }
    }

    /// The same on channel c's error buffer `e` (taken once per pixel by `predict`).
    @inline(__always) func localError(_ e: UnsafeBufferPointer<Int32>, _ y: Int, _ x: Int, _ i: Int) -> Int {
        let row = slot(y)
        var s = 0
        if x > 0 { s += 2 * Int(e[(row + x - 1) * k + i]) }
        if y > 0 {
            let up = slot(y - 1)
            s += 2 * Int(e[(up + x) * k + i])
            if x > 0 { s += Int(e[(up + x - 1) * k + i]) }
            if x + 1 < width { s += Int(e[(up + x + 1) * k + i]) }
        }
        return s
    }

    /// Predict channel `c` at (y, x); `ref`, `ref2` are already-coded reference channels or −1.
    mutating func predict(_ c: Int, _ y: Int, _ x: Int, ref: Int, ref2: Int = -1) {
        let a = neighbourhood(c, y, x)
        nb = a
        let med: Int
        if a.nw >= max(a.n, a.w) { med = min(a.n, a.w) }
        else if a.nw <= min(a.n, a.w) { med = max(a.n, a.w) }
        else { med = a.n + a.w - a.nw }
        sub[0] = 8 * (a.w + a.ne - a.n)
        sub[1] = 8 * a.n
        sub[2] = 8 * a.w
        sub[3] = 8 * med
        sub[4] = 8 * (a.n + a.ne - a.nne)
        sub[5] = 4 * (a.w + a.ne)
        sub[6] = 8 * (a.n + a.w - a.nw)
        sub[7] = 4 * (a.n + a.w)
        sub[8] = 8 * (2 * a.n - a.nn)
        sub[9] = 8 * (2 * a.w - a.ww)
        // Online least squares over the causal neighbours (+ reference channels for colour).
        let fit: Double
        if channels == 3 {
            colour.setFeature(0, channel: c, a.n); colour.setFeature(1, channel: c, a.w)
            colour.setFeature(2, channel: c, a.nw); colour.setFeature(3, channel: c, a.ne)
            colour.setFeature(4, channel: c, a.nn); colour.setFeature(5, channel: c, a.ww)
            colour.setFeature(6, channel: c, a.nne)
            if ref >= 0 {
                let g = neighbourhood(ref, y, x)
                colour.setFeature(7, channel: c, v(ref, y, x)); colour.setFeature(8, channel: c, g.n)
                colour.setFeature(9, channel: c, g.w)
            }
            if ref2 >= 0 { colour.setFeature(10, channel: c, v(ref2, y, x)) }
            fit = colour.predict(channel: c)
        } else {
            gray.setFeatures(a.n, a.w, a.nw, a.ne, a.nn, a.ww, a.nne)
            fit = gray.predict()
        }
        sub[Self.leastSquaresIndex] = fit.isFinite ? Int((8 * min(max(fit, 0), 255)).rounded()) : 8 * med
        // Inter-channel: own neighbour + a reference channel's change from that neighbour.
        // Slots without a reference (gray, or G in colour) repeat MED so k stays fixed.
        if k > Self.ownPredictors {
            crossPredict(a, med: med, reference: ref, y, x, at: Self.ownPredictors)
            crossPredict(a, med: med, reference: ref2, y, x, at: Self.ownPredictors + Self.crossPredictors)
        }
        // Blend with weights ∝ 1 / (2 + local error)^3 (gray) or ^2 (colour).
        var num = 0, den = 0
        let sub = sub, gray = channels == 1, tableSize = Self.weightTableSize
        subErrors[c].withUnsafeBufferPointer { errors in
        blendWeights.withUnsafeBufferPointer { table in
        for i in 0..<k {
            let e = localError(errors, y, x, i) + 2
            // Gray (noisy texture, sharp silhouettes) prefers a sharper choice: 1/e³; colour 1/e².
            // (The quotients come from exact tables below 2^14: an integer division per sub-predictor was a
            // fifth of the colour coder's time.)
            let wgt = e < tableSize ? Int(table[e]) : gray ? (1 << 40) / (e * e * e) : (1 << 28) / (e * e)
            num += wgt * sub[i]
            den += wgt
        }
        } }
        blended8 = (num + den / 2) / den
        // Bias cancellation context: signs of neighbours relative to the blend + error level.
        let p = blended8
        var t = 0
        if 8 * a.n > p { t |= 1 }
        if 8 * a.w > p { t |= 2 }
        if 8 * a.nw > p { t |= 4 }
        if 8 * a.ne > p { t |= 8 }
        let act = abs(a.n - a.nw) + abs(a.w - a.nw) + abs(a.ne - a.n)
        let q = act == 0 ? 0 : act < 6 ? 1 : act < 20 ? 2 : 3
        var eSign = 0
        if x > 0 { let r = residuals[c][slot(y) + x - 1]; eSign = r > 0 ? 1 : r < 0 ? 2 : 0 }
        biasContext = c * Self.biasContexts + ((t * 4 + q) * 3 + eSign) % Self.biasContexts
        prediction = min(max((p + 8 * Int(biasCorrection[biasContext]) + 4) >> 3, 0), 255)
    }

    /// Sub-predictors o … o+3 from reference channel r (or MED copies when r < 0).
    mutating func crossPredict(_ a: Neighbourhood, med: Int, reference r: Int, _ y: Int, _ x: Int, at o: Int) {
        if r >= 0 {
            let g = neighbourhood(r, y, x)
            let gv = v(r, y, x)
            sub[o] = 8 * (a.w + gv - g.w)
            sub[o + 1] = 8 * (a.n + gv - g.n)
            sub[o + 2] = 8 * (a.nw + gv - g.nw)
            sub[o + 3] = 4 * (a.ne + gv - g.ne + a.w + gv - g.w)
        } else {
            for i in o..<(o + Self.crossPredictors) { sub[i] = 8 * med }
        }
    }

    /// After the last channel of a pixel: the colour fits take in the pixel and re-solve.
    mutating func endPixel() {
        if channels == 3 { colour.update() }
    }

    /// Record the true value of channel `c` at (y, x) after coding it.
    mutating func update(_ c: Int, _ y: Int, _ x: Int, value: Int) {
        let idx = slot(y) + x
        values[c][idx] = Int32(value)
        residuals[c][idx] = Int32(value - prediction)
        let t8 = 8 * value, k = k, sub = sub
        subErrors[c].withUnsafeMutableBufferPointer { e in
            for i in 0..<k { e[idx * k + i] = Int32(abs(t8 - sub[i])) }
        }
        if channels == 3 { colour.values[c] = Double(value) } else { gray.update(value: Double(value)) }
        let cx = biasContext
        var b = Int(biasSum[cx]) + (value - prediction)
        var n = Int(biasCount[cx]) + 1
        var corr = Int(biasCorrection[cx])
        if n >= 32 { b >>= 1; n >>= 1 }
        if b <= -n { corr -= 1; b += n; if b <= -n { b = -n + 1 } }
        else if b > 0 { corr += 1; b -= n; if b > 0 { b = 0 } }
        biasSum[cx] = Int32(b); biasCount[cx] = Int32(n); biasCorrection[cx] = Int32(min(max(corr, -32), 32))
    }
}
