import XCTest
import Datasets
import Kernels
import Layers
@testable import Tokenizers
@testable import Quantizers
import Backbones
import Settings
import Training

final class VQTests: XCTestCase {
    func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
        var rng = Kernels.SplitMix64(seed: seed)
        let t = Tensor(shape: shape)
        for i in 0..<t.count { t.data[i] = scale * rng.uniform(-1, 1) }
        return t
    }

    func testNearestCodeEqualsBruteForce() {
        for (K, d, N) in [(7, 3, 50), (512, 64, 300), (1000, 5, 1200)] {
            let ps = ParameterSet(seed: UInt64(K))
            let cb = Codebook(size: K, dimension: d, params: ps, name: "cb")
            ps.finalize()
            var rng = Kernels.SplitMix64(seed: 9)
            for i in 0..<(K * d) { cb.weights[i] = rng.uniform(-1, 1) }
            let v = randomTensor([d, N], seed: UInt64(N))
            var fast = [Int32](repeating: -1, count: N)
            fast.withUnsafeMutableBufferPointer { cb.nearest(v.data, count: N, into: $0.baseAddress!) }
            let naive = cb.nearestNaive(v.data, count: N)
            // Equal except for exact float ties, where both must be equally near.
            for n in 0..<N where fast[n] != naive[n] {
                func dist(_ k: Int32) -> Double { (0..<d).reduce(0.0) { $0 + pow(Double(v.data[$1 * N + n]) - Double(cb.code(Int(k))[$1]), 2) } }
                XCTAssertEqual(dist(fast[n]), dist(naive[n]), accuracy: 1e-5, "K=\(K) n=\(n)")
            }
        }
    }

    /// Exact ties (repeated codes, in the same and in different SIMD lanes, and in the scalar tail):
    /// the search returns the first nearest code, as the sequential scan does.
    func testNearestCodeTiesGoToTheFirstCode() {
        let K = 45, d = 2, N = 60
        let ps = ParameterSet(seed: 1)
        let cb = Codebook(size: K, dimension: d, params: ps, name: "cb")
        ps.finalize()
        for k in 0..<K { cb.weights[k * d] = Float(k % 7); cb.weights[k * d + 1] = Float((k % 7) * 2) }   // code k = code k mod 7
        let v = Tensor(shape: [d, N])
        for n in 0..<N { v.data[n] = Float(n % 9) - 1; v.data[N + n] = 2 * (Float(n % 9) - 1) }
        var fast = [Int32](repeating: -1, count: N)
        fast.withUnsafeMutableBufferPointer { cb.nearest(v.data, count: N, into: $0.baseAddress!) }
        XCTAssertEqual(fast, cb.nearestNaive(v.data, count: N))
        XCTAssertTrue(fast.allSatisfy { $0 < 7 }, "\(fast)")
    }

    func testEMAUpdateHandComputed() {
        // K = 2 codes in d = 1, decay 0.5, ε = 0. State: N = [2, 0], m = [4, 0].
        // Batch v = [1, 3, 10] assigned to [0, 0, 1]: n = [2, 1], s = [4, 10].
        // N ← 0.5·[2,0] + 0.5·[2,1] = [2, 0.5];  m ← 0.5·[4,0] + 0.5·[4,10] = [4, 5]
        // Σ N = 2.5, Ñ = N (ε = 0) → e = [4/2, 5/0.5] = [2, 10].
        let ps = ParameterSet(seed: 1)
        let cb = Codebook(size: 2, dimension: 1, params: ps, name: "cb")
        ps.finalize()
        cb.decay = 0.5; cb.epsilon = 0
        cb.loadState(clusterSize: [2, 0], embedSum: [4, 0])
        let v: [Float] = [1, 3, 10], idx: [Int32] = [0, 0, 1]
        v.withUnsafeBufferPointer { vb in idx.withUnsafeBufferPointer { cb.emaUpdate(vb.baseAddress!, count: 3, indices: $0.baseAddress!, updateCodes: true) } }
        XCTAssertEqual(cb.clusterSize, [2, 0.5])
        XCTAssertEqual(cb.embedSum, [4, 5])
        XCTAssertEqual(cb.weights[0], 2, accuracy: 1e-6)
        XCTAssertEqual(cb.weights[1], 10, accuracy: 1e-6)
        // Laplace smoothing with ε = 1: Ñ_k = (N_k + 1)/(2.5 + 2)·2.5 → e_1 = 2.5·… (second step, no vectors on code 1)
        cb.epsilon = 1
        let v2: [Float] = [2], idx2: [Int32] = [0]
        v2.withUnsafeBufferPointer { vb in idx2.withUnsafeBufferPointer { cb.emaUpdate(vb.baseAddress!, count: 1, indices: $0.baseAddress!, updateCodes: true) } }
        // N = [0.5·2 + 0.5·1, 0.25] = [1.5, 0.25]; m = [0.5·4 + 0.5·2, 2.5] = [3, 2.5]; ΣN = 1.75
        let s0 = (1.5 + 1) / (1.75 + 2) * 1.75, s1 = (0.25 + 1) / (1.75 + 2) * 1.75
        XCTAssertEqual(Double(cb.weights[0]), 3 / s0, accuracy: 1e-5)
        XCTAssertEqual(Double(cb.weights[1]), 2.5 / s1, accuracy: 1e-5)
    }

    func testRestartReseedsExactlyTheDeadCodes() {
        let ps = ParameterSet(seed: 2)
        let cb = Codebook(size: 5, dimension: 2, params: ps, name: "cb")
        ps.finalize()
        for i in 0..<10 { cb.weights[i] = Float(100 + i) }
        cb.loadState(clusterSize: [3, 0.2, 5, 0.9, 1.0], embedSum: [Float](repeating: 0, count: 10))
        let v: [Float] = [-1, -2, -3, -11, -12, -13]   // [d = 2, N = 3]: columns (-1,-11), (-2,-12), (-3,-13)
        var rng = Kernels.SplitMix64(seed: 4)
        let dead = v.withUnsafeBufferPointer { cb.restartDeadCodes(threshold: 1.0, from: $0.baseAddress!, count: 3, rng: &rng) }
        XCTAssertEqual(dead, [1, 3])
        for k in [0, 2, 4] { XCTAssertEqual(Array(UnsafeBufferPointer(start: cb.code(k), count: 2)), [Float(100 + 2 * k), Float(101 + 2 * k)]) }
        for k in dead {
            let e = Array(UnsafeBufferPointer(start: cb.code(k), count: 2))
            XCTAssertTrue([[-1, -11], [-2, -12], [-3, -13]].contains(e), "\(e) is not an encoder output")
            XCTAssertEqual(cb.clusterSize[k], 1.0)
        }
    }

    func testKMeansFindsSeparatedClusters() {
        // Three tight clusters in 2-D; k-means with K = 3 puts one code on each centre.
        let centres: [(Float, Float)] = [(0, 0), (10, 0), (0, 10)]
        var rng = Kernels.SplitMix64(seed: 5)
        let N = 300
        var v = [Float](repeating: 0, count: 2 * N)
        for n in 0..<N { let c = centres[n % 3]; v[n] = c.0 + rng.uniform(-0.1, 0.1); v[N + n] = c.1 + rng.uniform(-0.1, 0.1) }
        let ps = ParameterSet(seed: 3)
        let cb = Codebook(size: 3, dimension: 2, params: ps, name: "cb")
        ps.finalize()
        var r2 = Kernels.SplitMix64(seed: 1)
        v.withUnsafeBufferPointer { cb.kmeansInitialize($0.baseAddress!, count: N, iterations: 10, rng: &r2) }
        let codes = (0..<3).map { (cb.code($0)[0], cb.code($0)[1]) }
        for c in centres { XCTAssertTrue(codes.contains { abs($0.0 - c.0) < 0.1 && abs($0.1 - c.1) < 0.1 }, "\(codes)") }
        XCTAssertEqual(cb.clusterSize.reduce(0, +), Float(N))
    }

    func makeTokenizer(_ o: VQBottleneck.Options, shape: ImageShape = ImageShape(channels: 1, height: 8, width: 8)) -> LatentTokenizer {
        let backbone = BackboneConfig(channels: shape.channels, hidden: 8, residual: 4, latent: 6, downsamplings: 2)
        return LatentTokenizer(kind: "vq-vae", shape: shape, backbone: backbone, seed: 1) { ps in VQBottleneck(latentDim: 6, options: o, params: ps, seed: 1) }
    }

    func testDecodeOfEncodeUsesTheForwardPassCodes() {
        for cosine in [false, true] {
            var o = VQBottleneck.Options.defaults; o.codebookSize = 16; o.codebookDim = cosine ? 3 : nil; o.cosine = cosine
            let t = makeTokenizer(o)
            var rng = Kernels.SplitMix64(seed: 7)
            let images = ImageBatch(count: 3, channels: 1, height: 8, width: 8, pixels: (0..<192).map { _ in UInt8(rng.int(below: 256)) })
            // The quantized forward pass, by hand.
            let x = Tensor(shape: [1, 3, 8, 8]); t.input(images, indices: [0, 1, 2], into: x)
            let forward = t.quantizer.forward(t.encoder.forward(x), .inference)
            let zq = forward.zq, forwardWords = forward.words
            let direct = t.output(t.decoder.forward(zq))
            let tokens = t.encode(images)
            XCTAssertEqual(tokens.words, forwardWords)
            XCTAssertEqual(tokens.length, 4)
            XCTAssertEqual(t.decode(tokens), direct)
            // codes → indices → codes: dequantize(words) reproduces the forward pass's ẑ.
            let zq2 = t.quantizer.dequantize(forwardWords, shape: [6, 3, 2, 2])
            XCTAssertEqual(zq2.values, zq.values)
        }
    }

    /// With the indices held fixed, the codebook gradient of mean((sg(u) − q)²) and the input
    /// gradient (straight-through + commitment, through the cosine normalisation and the
    /// projection) match central finite differences in Double.
    func testQuantizerGradientsMatchFiniteDifferences() {
        for cosine in [false, true] {
            var o = VQBottleneck.Options.defaults; o.codebookSize = 5; o.codebookDim = 3; o.ema = false; o.codebook.kmeansInit = false; o.cosine = cosine
            o.commitment = 0.7
            let ps = ParameterSet(seed: 11)
            let q = VQBottleneck(latentDim: 4, options: o, params: ps, seed: 1)
            ps.finalize()
            let z = randomTensor([4, 2, 1, 3], seed: 3)   // N = 6
            let G = randomTensor([4, 2, 1, 3], seed: 4)   // upstream dL/dẑ
            ps.zeroGrads()
            let out = q.forward(z, .training(step: 1)).zq
            XCTAssertEqual(out.shape, z.shape)
            let idx = q.indices
            let dz = q.backward(G).values
            // Surrogate whose gradient the straight-through estimator defines, indices fixed:
            //   S(z, E) = <G, W_out(u(z)) > + β mean((u − sg q)²) + mean((sg u − q(E))²)
            func surrogate(_ zv: [Double], _ ev: [Double], fixQ: Bool) -> Double {
                let N = 6, d = 3, D = 4
                let win = ps.entries.first { $0.name == "quantizer.project_in.weight" }!
                let wout = ps.entries.first { $0.name == "quantizer.project_out.weight" }!
                let bin = ps.entries.first { $0.name == "quantizer.project_in.bias" }!
                let bout = ps.entries.first { $0.name == "quantizer.project_out.bias" }!
                func p(_ e: ParameterEntry, _ i: Int) -> Double { Double(ps.values.data[e.offset + i]) }
                var u = [Double](repeating: 0, count: d * N)
                for j in 0..<d { for n in 0..<N { u[j * N + n] = p(bin, j) + (0..<D).reduce(0.0) { $0 + p(win, j * D + $1) * zv[$1 * N + n] } } }
                if cosine { for n in 0..<N { let s = (0..<d).reduce(0.0) { $0 + u[$1 * N + n] * u[$1 * N + n] }.squareRoot(); for j in 0..<d { u[j * N + n] /= s } } }
                var codes = ev
                if cosine { for k in 0..<5 { let s = (0..<d).reduce(0.0) { $0 + codes[k * d + $1] * codes[k * d + $1] }.squareRoot(); for j in 0..<d { codes[k * d + j] /= s } } }
                let fixed = q.q!.values.map(Double.init)
                var loss = 0.0
                // straight-through: ẑ = W_out(u + sg(q − u)) → gradient of <G, W_out u>
                for i in 0..<D { for n in 0..<N {
                    let o = p(bout, i) + (0..<d).reduce(0.0) { $0 + p(wout, i * d + $1) * (fixQ ? u[$1 * N + n] : fixed[$1 * N + n]) }
                    loss += Double(G.data[i * N + n]) * o
                } }
                var commit = 0.0, cbl = 0.0
                for j in 0..<d { for n in 0..<N {
                    let qv = codes[Int(idx[n]) * d + j]
                    commit += pow(u[j * N + n] - fixed[j * N + n], 2)
                    cbl += pow(u[j * N + n] - qv, 2)
                } }
                return loss + Double(o.commitment) * commit / Double(d * N) + (fixQ ? 0 : 1) * cbl / Double(d * N)
            }
            let zv = z.values.map(Double.init)
            let ev = Array(UnsafeBufferPointer(start: q.codebook.weights, count: 15)).map(Double.init)
            let h = 1e-5
            for i in 0..<zv.count {
                var a = zv, b = zv; a[i] += h; b[i] -= h
                let fd = (surrogate(a, ev, fixQ: true) - surrogate(b, ev, fixQ: true)) / (2 * h)
                XCTAssertEqual(Double(dz[i]), fd, accuracy: 1e-3 * max(1, abs(fd)), "dz[\(i)] cosine=\(cosine)")
            }
            let eg = Array(UnsafeBufferPointer(start: ps.grad(q.codebook.offset), count: 15))
            for i in 0..<15 {
                var a = ev, b = ev; a[i] += h; b[i] -= h
                let fd = (surrogate(zv, a, fixQ: false) - surrogate(zv, b, fixQ: false)) / (2 * h)
                XCTAssertEqual(Double(eg[i]), fd, accuracy: 1e-3 * max(1, abs(fd)), "dE[\(i)] cosine=\(cosine)")
            }
        }
    }
}
