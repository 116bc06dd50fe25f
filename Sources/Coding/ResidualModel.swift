// Context-mixing model for the binarised prediction residual of one pixel channel.
//
// Binary decisions ("nodes", 64 in all):
//   0                zero flag           e == 0 ?
//   1                sign                e < 0 ?
//   2 + t            unary bucket bit    ⌊log2 |e|⌋ > t ?                 t = 0 … 7
//   10 + 7(b−1) + j  mantissa bit j of |e| in bucket b                  b = 1 … 7, j = b−1 … 0
//
// Each node is predicted by adaptive bit-model tables, each indexed by (slot, context, node) —
// slot = the channel's coding position (G, R, B) so channels keep separate statistics. The
// contexts capture different reasons why a residual is large, small or skewed:
//   0 energy      recent |residuals| + local gradient activity, 16 log levels — the classic
//                 CALIC/JPEG-LS "how surprised were we around here" context;
//   1 order 0     the node alone — adapts fastest, anchors the mix on a tiny image;
//   2 prediction  P in 16 buckets × 4 energy levels — near 0/255 the residual is one-sided
//                 (Fashion-MNIST background is exactly 0);
//   3 texture     6 bits "is neighbour above P" (N, W, NW, NE, NN, WW) × 4 energy levels;
//   4 saturation  which of N, W, NW, NE are 0 or 255 × 4 energy levels — flat background;
//   5 res. signs  signs of the W and N residuals × 16 energy levels — residual correlation;
//   6 cross       the reference (G) channel's residual at this pixel (colour only);
//   7–10 gradients  (N−P, W−P), (NE−P, NW−P), (NN−P, WW−P), (N−P, NE−P), each difference in
//                 9 signed log levels: where the neighbours sit relative to the prediction says
//                 which way and how far the truth is likely to be — this is how the other
//                 predictors' opinions enter the mix;
//   11 values     (W, N) in 16 levels each — intensity-dependent noise;
//   12 disagreement  (OLS − P, blend − P): how far the least-squares predictor and the raw blend
//                 (before bias correction) sit from the final prediction — a large spread means
//                 an uncertain, probably skewed residual (−2.5 % on photos);
//   13 cross pred. (R/B only) the G- and R-based cross-channel predictions relative to P;
//   14 extremes   P's distance to 0 and to 255 in 5 levels each — coarse, so it learns within a
//                 few pixels that residuals at the range ends are one-sided (−0.7 % on FMNIST).
// Coarse contexts learn fast, fine ones are precise: on a 784-pixel image the mixers rely on
// the coarse ones first, then shift weight as the finer ones gather counts.
// Three logistic mixers combine the models — weight sets chosen by node, by energy × node class
// and by the (N−P, W−P) gradient × node class — averaged in the logistic domain; an APM on
// (node, energy) refines the result.

@usableFromInline struct ResidualModel {
    static let nodes = 64
    /// Contexts per slot for each model (excluding the node).
    static let sizes = [16, 1, 64, 256, 64, 144, 64, 81, 81, 81, 81, 256, 81, 81, 81]
    static let crossModels = [6, 13]
    /// Nodes whose fitted priors are shipped (all: even high-bucket mantissas are skewed on FMNIST).
    static let fittedNodes: [Int] = Array(0..<nodes)
    /// Bit-model hit-count cap: small, so the tables keep adapting within one image.
    static let countLimit = 255
    static let mixerRate = 8
    static let initialWeight = 65536 * 6 / 100

    /// Models in use: gray images have no reference channel, so no cross models.
    let active: [Int]
    /// All models' bit models in one table (one array: fewer bounds/uniqueness checks per bit);
    /// model i owns cells [offset[i], offset[i] + sizes[i]·slots·nodes).
    var table: BitModelTable
    let offset: [Int]
    var mixer: LogisticMixer        // weight set by (slot, node)
    var mixer2: LogisticMixer       // weight set by (slot, energy, node class)
    var mixer3: LogisticMixer       // weight set by (slot, (N−P, W−P), node class)
    var apm: AdaptiveProbabilityMap
    var ctx = [Int](repeating: 0, count: 16)    // per model: this pixel's context
    /// The k-th active model's first cell and contexts per slot.
    let activeOffset: [Int], activeSize: [Int]
    /// This value's cells of the k-th active model: offset + (slot·size + context)·nodes (+ node).
    var activeBase = [Int](repeating: 0, count: 16)
    var energy = 0
    var gradient = 0                            // (N−P, W−P) context, selects mixer3's weights
    var slot = 0
    /// When fitting priors: n0/n1 counts per table cell.
    var counts: [UInt32]? = nil

    init(channels: Int, prior: FittedPrior? = nil) {
        let slots = channels == 3 ? 3 : 1
        active = (channels == 3 ? Array(0..<Self.sizes.count) : Array(0..<Self.sizes.count).filter { !Self.crossModels.contains($0) })
        offset = Self.offsets(slots: slots)
        activeOffset = active.map { [offset] in offset[$0] }
        activeSize = active.map { Self.sizes[$0] }
        table = slots == 1 ? Self.coldGray : Self.coldColour     // copied on first write
        let inputs = active.count + 1
        mixer = LogisticMixer(inputs: inputs, selectors: Self.nodes * slots,
                              initialWeight: Self.initialWeight, learningRate: Self.mixerRate)
        mixer2 = LogisticMixer(inputs: inputs, selectors: 16 * 4 * slots,
                               initialWeight: Self.initialWeight, learningRate: Self.mixerRate)
        mixer3 = LogisticMixer(inputs: inputs, selectors: 81 * 4 * slots,
                               initialWeight: Self.initialWeight, learningRate: Self.mixerRate)
        apm = AdaptiveProbabilityMap(contexts: Self.nodes * 16 * slots, rateShift: 6)
        if let prior { prior.apply(to: &self) }
    }

    /// Start of each model's cells in the shared table, for 1 or 3 slots.
    static func offsets(slots: Int) -> [Int] {
        var offsets: [Int] = [], total = 0
        for size in sizes { offsets.append(total); total += size * slots * nodes }
        return offsets + [total]
    }

    /// Cold-start priors, weak (count 1): residuals are often zero, buckets tend to stop early,
    /// everything else starts at 1/2. Built once; every image starts from a copy.
    static func coldTable(slots: Int) -> BitModelTable {
        let total = offsets(slots: slots).last!
        var t = BitModelTable(size: total, limit: countLimit)
        for c in 0..<(total / nodes) {
            let b = c * nodes
            for node in 0..<nodes { t.set(b + node, p16: 32768, count: 1) }
            t.set(b, p16: 65536 / 4, count: 1)
            for u in 0..<8 { t.set(b + 2 + u, p16: 65536 * 4 / 10, count: 1) }
        }
        return t
    }
    static let coldGray = coldTable(slots: 1)
    static let coldColour = coldTable(slots: 3)

    static func quantizeEnergy(_ d: Int) -> Int {
        // Roughly logarithmic thresholds.
        if d <= 3 { return d }
        let th = [5, 7, 10, 14, 20, 28, 40, 56, 80, 112, 160]
        var q = 4
        while q - 4 < th.count && d > th[q - 4] { q += 1 }
        return q
    }

    /// Signed log quantisation of a difference into 9 levels (0 … 8, 4 = zero).
    @inline(__always) static func qd(_ d: Int) -> Int {
        let m = abs(d)
        let q = m == 0 ? 0 : m < 3 ? 1 : m < 7 ? 2 : m < 16 ? 3 : 4
        return d < 0 ? 4 - q : 4 + q
    }

    /// Compute every model's context for channel `c` at (y, x) (coding position `slot`).
    mutating func setContexts(predictor p: PixelPredictor, channel c: Int, slot s: Int, y: Int, x: Int, ref: Int) {
        slot = s
        let a = p.nb
        let w = p.width
        let res = p.residuals[c]
        @inline(__always) func e(_ yy: Int, _ xx: Int) -> Int {
            (yy >= 0 && xx >= 0 && xx < w) ? Int(res[p.slot(yy) + xx]) : 0
        }
        let eW = e(y, x - 1), eN = e(y - 1, x), eNW = e(y - 1, x - 1), eNE = e(y - 1, x + 1)
        let act = abs(a.n - a.nw) + abs(a.w - a.nw) + abs(a.ne - a.n)
        energy = Self.quantizeEnergy((2 * (abs(eW) + abs(eN)) + abs(eNW) + abs(eNE) + act) / 2)
        let coarse = energy < 3 ? 0 : energy < 7 ? 1 : energy < 11 ? 2 : 3
        let P = p.prediction
        var texture = 0
        if a.n > P { texture |= 1 }; if a.w > P { texture |= 2 }; if a.nw > P { texture |= 4 }
        if a.ne > P { texture |= 8 }; if a.nn > P { texture |= 16 }; if a.ww > P { texture |= 32 }
        @inline(__always) func sat(_ v: Int) -> Int { v == 0 || v == 255 ? 1 : 0 }
        let saturation = sat(a.n) | sat(a.w) << 1 | sat(a.nw) << 2 | sat(a.ne) << 3
        @inline(__always) func sgn(_ v: Int) -> Int { v > 0 ? 1 : v < 0 ? 2 : 0 }
        var cross = 0
        if ref >= 0 {
            let g = Int(p.residuals[ref][p.slot(y) + x])
            let m = abs(g)
            let q = m == 0 ? 0 : m < 2 ? 1 : m < 4 ? 2 : m < 8 ? 3 : m < 16 ? 4 : m < 32 ? 5 : 6
            cross = q == 0 ? 0 : (g > 0 ? q : q + 7)      // 0 … 13
        }
        let q8 = { (v8: Int) in Self.qd(((v8 + 4) >> 3) - P) }     // a ×8 prediction vs P
        ctx.withUnsafeMutableBufferPointer { ctx in
            ctx[0] = energy
            ctx[1] = 0
            ctx[2] = (P >> 4) * 4 + coarse
            ctx[3] = texture * 4 + coarse
            ctx[4] = saturation * 4 + coarse
            ctx[5] = (sgn(eW) * 3 + sgn(eN)) * 16 + energy
            ctx[6] = cross * 4 + coarse
            ctx[7] = Self.qd(a.n - P) * 9 + Self.qd(a.w - P)
            ctx[8] = Self.qd(a.ne - P) * 9 + Self.qd(a.nw - P)
            ctx[9] = Self.qd(a.nn - P) * 9 + Self.qd(a.ww - P)
            ctx[10] = Self.qd(a.n - P) * 9 + Self.qd(a.ne - P)
            ctx[11] = (a.w >> 4) * 16 + (a.n >> 4)
            ctx[12] = q8(p.sub[PixelPredictor.leastSquaresIndex]) * 9 + q8(p.blended8)
            ctx[13] = ref >= 0 ? q8(p.sub[PixelPredictor.ownPredictors]) * 9
                                 + q8(p.sub[PixelPredictor.ownPredictors + PixelPredictor.crossPredictors]) : 0
            ctx[14] = Self.qd(-P) * 9 + Self.qd(255 - P)
        }
        gradient = ctx[7]
        let n = active.count
        active.withUnsafeBufferPointer { model in
        activeOffset.withUnsafeBufferPointer { offset in
        activeSize.withUnsafeBufferPointer { size in
        ctx.withUnsafeBufferPointer { ctx in
        activeBase.withUnsafeMutableBufferPointer { base in
            for k in 0..<n { base[k] = offset[k] + (s * size[k] + ctx[model[k]]) * Self.nodes }
        } } } } }
    }

    /// What one value's decisions read and write, as raw pointers (taken once per value).
    @usableFromInline struct Hot {
        let cells: UnsafeMutablePointer<UInt32>          // the bit-model table
        let w1, w2, w3: UnsafeMutablePointer<Int32>       // the three mixers' weights
        let base: UnsafePointer<Int>                     // activeBase
        let st: UnsafeMutablePointer<Int32>              // [inputs] this decision's stretched inputs
    }

    /// Code the value (given when encoding; decoded otherwise) around prediction P.
    mutating func codeValue<C: BinaryCoder>(coder: inout C, value: Int, prediction P: Int) -> Int {
        // The hot arrays move into locals (no copy: each then holds the only reference) and back,
        // so the decisions run on raw pointers without a uniqueness or bounds check per access.
        var cells = table.cells, w1 = mixer.weights, w2 = mixer2.weights, w3 = mixer3.weights
        table.cells = []; mixer.weights = []; mixer2.weights = []; mixer3.weights = []
        defer { table.cells = cells; mixer.weights = w1; mixer2.weights = w2; mixer3.weights = w3 }
        let inputs = mixer.inputCount
        return cells.withUnsafeMutableBufferPointer { cells in
            w1.withUnsafeMutableBufferPointer { w1 in
                w2.withUnsafeMutableBufferPointer { w2 in
                    w3.withUnsafeMutableBufferPointer { w3 in
                        activeBase.withUnsafeBufferPointer { base in
                            withUnsafeTemporaryAllocation(of: Int32.self, capacity: inputs) { st in
                                let hot = Hot(cells: cells.baseAddress!, w1: w1.baseAddress!, w2: w2.baseAddress!,
                                              w3: w3.baseAddress!, base: base.baseAddress!, st: st.baseAddress!)
                                return codeResidual(coder: &coder, hot, value: value, prediction: P)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The binarisation of codeValue (the file's header), one codeBit per decision.
    mutating func codeResidual<C: BinaryCoder>(coder: inout C, _ hot: Hot, value: Int, prediction P: Int) -> Int {
        let e = value - P
        // zero flag
        if codeBit(&coder, hot, e == 0 ? 1 : 0, node: 0) == 1 { return P }
        // sign: negative possible iff P > 0, positive iff P < 255
        let negative: Bool
        if P == 0 { negative = false } else if P == 255 { negative = true }
        else { negative = codeBit(&coder, hot, e < 0 ? 1 : 0, node: 1) == 1 }
        let limit = negative ? P : 255 - P          // largest possible |e| (≥ 1)
        let m = abs(e)
        // bucket b = ⌊log2 m⌋ in unary, capped at ⌊log2 limit⌋
        let maxBucket = Int.bitWidth - 1 - limit.leadingZeroBitCount
        let trueBucket = m > 0 ? Int.bitWidth - 1 - m.leadingZeroBitCount : 0
        var b = 0
        while b < maxBucket {
            if codeBit(&coder, hot, trueBucket > b ? 1 : 0, node: 2 + b) == 0 { break }
            b += 1
        }
        // mantissa bits, MSB first, skipping bits forced to 0 by the range limit
        var mag = 1 << b
        var j = b - 1
        while j >= 0 {
            if mag + (1 << j) <= limit {
                mag |= codeBit(&coder, hot, (m >> j) & 1, node: 10 + 7 * (b - 1) + j) << j
            }
            j -= 1
        }
        return negative ? P - mag : P + mag
    }

    @inline(__always)
    mutating func codeBit<C: BinaryCoder>(_ coder: inout C, _ hot: Hot, _ bit: Int, node: Int) -> Int {
        let n = mixer.inputCount                    // the active models' inputs, then the bias
        let models = n - 1
        let st = hot.st
        for k in 0..<models { st[k] = Int32(Logistic.stretch16(BitModelTable.p16(hot.cells[hot.base[k] + node]))) }
        st[models] = 256
        let nodeClass = node == 0 ? 0 : node == 1 ? 1 : node < 10 ? 2 : 3
        let w1 = hot.w1 + (slot * Self.nodes + node) * n
        let w2 = hot.w2 + ((slot * 16 + energy) * 4 + nodeClass) * n
        let w3 = hot.w3 + ((slot * 81 + gradient) * 4 + nodeClass) * n
        let p1 = LogisticMixer.mix(w1, st, n)
        let p2 = LogisticMixer.mix(w2, st, n)
        let p3 = LogisticMixer.mix(w3, st, n)
        // Average the three mixers in the logistic domain (a learned 2nd layer did no better here).
        let pm = Logistic.squash16((Logistic.stretch16(p1) + Logistic.stretch16(p2) + Logistic.stretch16(p3)) / 3)
        let pa = apm.refine(p16: pm, context: (slot * 16 + energy) * Self.nodes + node)
        // Clamp so every decision costs ≥ 0.0007 bits: bounds how many values a body can hold.
        let p = min(max((pm + 3 * pa) >> 2, 32), 65536 - 32)
        let y = coder.code(bit: bit, p16: p)
        let limit = table.limit
        for k in 0..<models {
            let i = hot.base[k] + node
            hot.cells[i] = BitModelTable.updated(hot.cells[i], bit: y, limit: limit)
        }
        if counts != nil {
            for k in 0..<models { counts![(hot.base[k] + node) * 2 + y] += 1 }
        }
        LogisticMixer.train(w1, st, n, bit: y, p16: p1, learningRate: mixer.learningRate)
        LogisticMixer.train(w2, st, n, bit: y, p16: p2, learningRate: mixer2.learningRate)
        LogisticMixer.train(w3, st, n, bit: y, p16: p3, learningRate: mixer3.learningRate)
        apm.update(bit: y)
        return y
    }
}
