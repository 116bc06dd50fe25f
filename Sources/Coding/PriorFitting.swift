// Fitting the gray prior on a training split.
//
// Pass 1 counts, for every (model, context, fitted node), how often the bit was 0 or 1 over all
// training images (contexts depend only on pixel data, not on model state, so one cold-start
// coding pass per image gives exact counts). The prior probability is (n1 + 0.4)/(n + 0.8);
// unseen cells take the node's overall rate.
// Pass 2 codes `mixerImages` training images in sequence starting from those table priors and
// carries the three mixers' weights from image to image (tables still reset); the final weights become
// the mixers' prior.

extension LosslessImageCoder {
    /// Fit a prior for gray `width`×`height` images. images: each [H·W] bytes.
    public static func fitGrayPrior(images: [[UInt8]], width: Int, height: Int,
                                    mixerImages: Int = 2000, confidence: Int = 6) -> FittedPrior {
        let nodes = ResidualModel.nodes
        let grayModels = FittedPrior.grayModels
        // Pass 1: bit counts per cell.
        let layout = ResidualModel(channels: 1)
        var counts = [UInt32](repeating: 0, count: layout.table.cells.count * 2)
        for img in images {
            var m = ResidualModel(channels: 1)
            m.counts = counts
            counts = []                                  // hand the buffers over (no copy)
            var enc = BinaryArithmeticEncoder()
            var unused: [UInt8] = []
            codeImage(coder: &enc, model: &m, pixels: img, out: &unused, width: width, height: height,
                      channels: 1, encoding: true)
            counts = m.counts!
        }
        // Node-level fallback from the order-0 model (index 1).
        func stretchOf(_ n0: UInt32, _ n1: UInt32) -> Int8 {
            let p = (Double(n1) + 0.4) / (Double(n0 + n1) + 0.8)
            let p16 = Int(min(max(p * 65536, 1), 65535))
            return Int8(min(max(Logistic.stretch16(p16) / 16, -127), 127))
        }
        var table: [Int8] = []
        for model in grayModels {
            for c in 0..<ResidualModel.sizes[model] {
                for node in ResidualModel.fittedNodes {
                    let i = (layout.offset[model] + c * nodes + node) * 2
                    let o = (layout.offset[1] + node) * 2              // order-0 cell of this node
                    let n0 = counts[i], n1 = counts[i + 1]
                    if n0 + n1 > 0 { table.append(stretchOf(n0, n1)) }
                    else { table.append(stretchOf(counts[o], counts[o + 1])) }
                }
            }
        }
        var prior = FittedPrior(table: table, mixer1: [], mixer2: [], mixer3: [], confidence: confidence)
        // Pass 2: mixer weights carried across images.
        var template = ResidualModel(channels: 1)
        var w1 = template.mixer.weights, w2 = template.mixer2.weights, w3 = template.mixer3.weights
        prior.mixer1 = w1.map { Int16(clamping: $0 / 16) }
        prior.mixer2 = w2.map { Int16(clamping: $0 / 16) }
        prior.mixer3 = w3.map { Int16(clamping: $0 / 16) }
        for img in images.prefix(mixerImages) {
            template = ResidualModel(channels: 1, prior: prior)
            template.mixer.weights = w1
            template.mixer2.weights = w2
            template.mixer3.weights = w3
            var enc = BinaryArithmeticEncoder()
            var unused: [UInt8] = []
            codeImage(coder: &enc, model: &template, pixels: img, out: &unused, width: width, height: height,
                      channels: 1, encoding: true)
            w1 = template.mixer.weights
            w2 = template.mixer2.weights
            w3 = template.mixer3.weights
        }
        prior.mixer1 = w1.map { Int16(clamping: $0 / 16) }
        prior.mixer2 = w2.map { Int16(clamping: $0 / 16) }
        prior.mixer3 = w3.map { Int16(clamping: $0 / 16) }
        return prior
    }
}
