// Forward-only layers of the perceptual networks (FID Inception, LPIPS AlexNet / VGG-16), one image at a
// time in [C, H, W] layout. Each has a naive reference loop beside it (`…Naive`); PerceptualTests hold
// them equal. A network's images run in parallel, one per worker, with single-threaded GEMMs.
import Kernels

/// One image's activations: [C, H, W].
public struct Activation {
    public var channels, height, width: Int
    public var data: [Float]
    public init(channels: Int, height: Int, width: Int, data: [Float]) {
        precondition(data.count == channels * height * width)
        self.channels = channels; self.height = height; self.width = width; self.data = data
    }

    /// Channel concatenation of activations of one spatial size: [ΣC, H, W].
    public static func concatenate(_ parts: [Activation]) -> Activation {
        precondition(!parts.isEmpty && parts.allSatisfy { $0.height == parts[0].height && $0.width == parts[0].width })
        return Activation(channels: parts.reduce(0) { $0 + $1.channels }, height: parts[0].height, width: parts[0].width,
                          data: parts.flatMap(\.data))
    }
}

/// A convolution with a rectangular kernel and padding, its bias (and any batch norm, folded in at load),
/// and an optional ReLU. weights: [O, C·kh·kw] (PyTorch's OIHW flattened), bias: [O].
public struct ForwardConv {
    public let inChannels, outChannels, kernelH, kernelW, stride, padH, padW: Int
    public let relu: Bool
    public let weights: [Float]
    public let bias: [Float]

    public init(inChannels: Int, outChannels: Int, kernelH: Int, kernelW: Int, stride: Int = 1, padH: Int = 0, padW: Int = 0,
                relu: Bool, weights: [Float], bias: [Float]) {
        precondition(weights.count == outChannels * inChannels * kernelH * kernelW && bias.count == outChannels)
        self.inChannels = inChannels; self.outChannels = outChannels; self.kernelH = kernelH; self.kernelW = kernelW
        self.stride = stride; self.padH = padH; self.padW = padW; self.relu = relu; self.weights = weights; self.bias = bias
    }

    /// A bias-free conv followed by batch norm y = (x − mean) / sqrt(var + eps) · gamma + beta, folded:
    /// w' = w · gamma / sqrt(var + eps), b' = beta − mean · gamma / sqrt(var + eps) (gamma = 1 when absent).
    public static func foldingBatchNorm(inChannels: Int, outChannels: Int, kernelH: Int, kernelW: Int, stride: Int, padH: Int, padW: Int,
                                        relu: Bool, weights: [Float], mean: [Float], variance: [Float], beta: [Float],
                                        gamma: [Float]? = nil, eps: Double) -> ForwardConv {
        let k = inChannels * kernelH * kernelW
        var w = weights, b = [Float](repeating: 0, count: outChannels)
        for o in 0..<outChannels {
            let scale = Double(gamma?[o] ?? 1) / (Double(variance[o]) + eps).squareRoot()
            for j in 0..<k { w[o * k + j] = Float(Double(weights[o * k + j]) * scale) }
            b[o] = Float(Double(beta[o]) - Double(mean[o]) * scale)
        }
        return ForwardConv(inChannels: inChannels, outChannels: outChannels, kernelH: kernelH, kernelW: kernelW, stride: stride,
                           padH: padH, padW: padW, relu: relu, weights: w, bias: b)
    }

    public func outSize(_ h: Int, _ w: Int) -> (Int, Int) {
        ((h + 2 * padH - kernelH) / stride + 1, (w + 2 * padW - kernelW) / stride + 1)
    }

    /// x: [C, H, W] → [O, Ho, Wo]: im2col (skipped for 1×1 stride-1 convs) and one single-threaded GEMM.
    public func forward(_ x: Activation) -> Activation {
        precondition(x.channels == inChannels)
        let (ho, wo) = outSize(x.height, x.width)
        let n = ho * wo, k = inChannels * kernelH * kernelW
        var y = [Float](repeating: 0, count: outChannels * n)
        let direct = kernelH == 1 && kernelW == 1 && stride == 1 && padH == 0 && padW == 0
        let col = direct ? x.data : im2col(x, ho: ho, wo: wo)
        weights.withUnsafeBufferPointer { w in col.withUnsafeBufferPointer { c in y.withUnsafeMutableBufferPointer { out in
            sgemmSerial(m: outChannels, n: n, k: k, a: w.baseAddress!, lda: k, b: c.baseAddress!, ldb: n, c: out.baseAddress!, ldc: n)
        } } }
        y.withUnsafeMutableBufferPointer { out in
            for o in 0..<outChannels {
                let b = bias[o], row = out.baseAddress! + o * n
                if relu { for i in 0..<n { row[i] = max(0, row[i] + b) } } else { for i in 0..<n { row[i] += b } }
            }
        }
        return Activation(channels: outChannels, height: ho, width: wo, data: y)
    }

    /// [C·kh·kw, Ho·Wo]: row (c·kh + ki)·kw + kj, column oy·Wo + ox holds x[c, oy·s − ph + ki, ox·s − pw + kj] (0 outside).
    func im2col(_ x: Activation, ho: Int, wo: Int) -> [Float] {
        let h = x.height, w = x.width, n = ho * wo
        var col = [Float](repeating: 0, count: inChannels * kernelH * kernelW * n)
        x.data.withUnsafeBufferPointer { src in col.withUnsafeMutableBufferPointer { dst in
            for c in 0..<inChannels { for ki in 0..<kernelH { for kj in 0..<kernelW {
                let row = dst.baseAddress! + ((c * kernelH + ki) * kernelW + kj) * n
                // ox range with 0 ≤ ox·s − pw + kj < w
                var oxLo = 0
                while oxLo < wo && oxLo * stride - padW + kj < 0 { oxLo += 1 }
                var oxHi = wo
                while oxHi > oxLo && (oxHi - 1) * stride - padW + kj >= w { oxHi -= 1 }
                for oy in 0..<ho {
                    let iy = oy * stride - padH + ki
                    guard iy >= 0 && iy < h else { continue }
                    let plane = src.baseAddress! + (c * h + iy) * w - padW + kj
                    let out = row + oy * wo
                    if stride == 1 { for ox in oxLo..<oxHi { out[ox] = plane[ox] } }
                    else { for ox in oxLo..<oxHi { out[ox] = plane[ox * stride] } }
                }
            } } }
        } }
        return col
    }

    /// Reference: the convolution as a plain loop, accumulated in Double.
    public func forwardNaive(_ x: Activation) -> Activation {
        let (ho, wo) = outSize(x.height, x.width)
        var y = [Float](repeating: 0, count: outChannels * ho * wo)
        for o in 0..<outChannels { for oy in 0..<ho { for ox in 0..<wo {
            var acc = Double(bias[o])
            for c in 0..<inChannels { for ki in 0..<kernelH { for kj in 0..<kernelW {
                let iy = oy * stride - padH + ki, ix = ox * stride - padW + kj
                guard iy >= 0, iy < x.height, ix >= 0, ix < x.width else { continue }
                acc += Double(weights[((o * inChannels + c) * kernelH + ki) * kernelW + kj]) * Double(x.data[(c * x.height + iy) * x.width + ix])
            } } }
            y[(o * ho + oy) * wo + ox] = relu ? Float(max(0, acc)) : Float(acc)
        } } }
        return Activation(channels: outChannels, height: ho, width: wo, data: y)
    }
}

/// Max or average pooling over k×k windows with stride s and zero-width padding p (PyTorch's floor mode).
/// Max ignores padded positions; average divides by the window's in-image count when `countIncludePad`
/// is false (TF's "SAME" average pool), by k² when true.
public struct Pool {
    public enum Kind { case max, average(countIncludePad: Bool) }
    public let kind: Kind
    public let kernel, stride, padding: Int
    public init(_ kind: Kind, kernel: Int, stride: Int, padding: Int = 0) {
        self.kind = kind; self.kernel = kernel; self.stride = stride; self.padding = padding
    }

    public func outSize(_ h: Int, _ w: Int) -> (Int, Int) {
        ((h + 2 * padding - kernel) / stride + 1, (w + 2 * padding - kernel) / stride + 1)
    }

    public func forward(_ x: Activation) -> Activation {
        let (ho, wo) = outSize(x.height, x.width), h = x.height, w = x.width
        var y = [Float](repeating: 0, count: x.channels * ho * wo)
        x.data.withUnsafeBufferPointer { src in y.withUnsafeMutableBufferPointer { dst in
            for c in 0..<x.channels {
                let plane = src.baseAddress! + c * h * w
                for oy in 0..<ho {
                    let y0 = max(0, oy * stride - padding), y1 = min(h, oy * stride - padding + kernel)
                    for ox in 0..<wo {
                        let x0 = max(0, ox * stride - padding), x1 = min(w, ox * stride - padding + kernel)
                        var v: Float
                        switch kind {
                        case .max:
                            v = -.infinity
                            for iy in y0..<y1 { for ix in x0..<x1 { v = max(v, plane[iy * w + ix]) } }
                        case .average(let include):
                            var s: Float = 0
                            for iy in y0..<y1 { for ix in x0..<x1 { s += plane[iy * w + ix] } }
                            v = s / Float(include ? kernel * kernel : (y1 - y0) * (x1 - x0))
                        }
                        dst[(c * ho + oy) * wo + ox] = v
                    }
                }
            }
        } }
        return Activation(channels: x.channels, height: ho, width: wo, data: y)
    }

    /// Reference: every window position tested one by one, in Double.
    public func forwardNaive(_ x: Activation) -> Activation {
        let (ho, wo) = outSize(x.height, x.width)
        var y = [Float](repeating: 0, count: x.channels * ho * wo)
        for c in 0..<x.channels { for oy in 0..<ho { for ox in 0..<wo {
            var best = -Double.infinity, sum = 0.0, inside = 0
            for ki in 0..<kernel { for kj in 0..<kernel {
                let iy = oy * stride - padding + ki, ix = ox * stride - padding + kj
                if iy < 0 || iy >= x.height || ix < 0 || ix >= x.width { continue }
                let v = Double(x.data[(c * x.height + iy) * x.width + ix])
                best = Swift.max(best, v); sum += v; inside += 1
            } }
            switch kind {
            case .max: y[(c * ho + oy) * wo + ox] = Float(best)
            case .average(let include): y[(c * ho + oy) * wo + ox] = Float(sum / Double(include ? kernel * kernel : inside))
            }
        } } }
        return Activation(channels: x.channels, height: ho, width: wo, data: y)
    }
}
