import XCTest
@testable import Kernels
@testable import Layers
@testable import Backbones
import Settings
import Tokenizers

final class BackboneTests: XCTestCase {
    /// The vq-vae tokenizer `tokbench run` trains has PyTorch's state_dict names and shapes of
    /// bench/pytorch_peer.py (n=2, reference sizes, K = 512).
    func testReferenceNamesMatchPyTorch() throws {
        let t = try TokenizerRegistry.make(TokenizerConfig(kind: "vq-vae", values: [:]), shape: ImageShape(channels: 3, height: 32, width: 32))
        let ps = try XCTUnwrap(t as? LatentTokenizer).params
        let expected: [(String, [Int])] = [
            ("encoder.0.weight", [64, 3, 4, 4]), ("encoder.0.bias", [64]), ("encoder.2.weight", [128, 64, 4, 4]), ("encoder.2.bias", [128]),
            ("encoder.4.weight", [128, 128, 3, 3]), ("encoder.4.bias", [128]),
            ("encoder.5.block.1.weight", [32, 128, 3, 3]), ("encoder.5.block.1.bias", [32]),
            ("encoder.5.block.3.weight", [128, 32, 1, 1]), ("encoder.5.block.3.bias", [128]),
            ("encoder.6.block.1.weight", [32, 128, 3, 3]), ("encoder.6.block.1.bias", [32]),
            ("encoder.6.block.3.weight", [128, 32, 1, 1]), ("encoder.6.block.3.bias", [128]),
            ("encoder.8.weight", [64, 128, 1, 1]), ("encoder.8.bias", [64]), ("quantizer.embedding.weight", [512, 64]),
            ("decoder.0.weight", [128, 64, 3, 3]), ("decoder.0.bias", [128]),
            ("decoder.1.block.1.weight", [32, 128, 3, 3]), ("decoder.1.block.1.bias", [32]),
            ("decoder.1.block.3.weight", [128, 32, 1, 1]), ("decoder.1.block.3.bias", [128]),
            ("decoder.2.block.1.weight", [32, 128, 3, 3]), ("decoder.2.block.1.bias", [32]),
            ("decoder.2.block.3.weight", [128, 32, 1, 1]), ("decoder.2.block.3.bias", [128]),
            ("decoder.4.weight", [128, 64, 4, 4]), ("decoder.4.bias", [64]), ("decoder.6.weight", [64, 3, 4, 4]), ("decoder.6.bias", [3]),
        ]
        XCTAssertEqual(ps.entries.map(\.name), expected.map(\.0))
        XCTAssertEqual(ps.entries.map(\.shape), expected.map(\.1))
        var offset = 0
        for e in ps.entries { XCTAssertEqual(e.offset, offset); offset += e.count }
        XCTAssertEqual(ps.count, offset)
    }

    /// n = 1: encoder conv4×4/2 (C→h), ReLU, conv3×3 …; decoder … ReLU, convT4×4/2 (h→C).
    func testOneDownsampling() {
        let ps = ParameterSet(seed: 0)
        let config = BackboneConfig(channels: 1, hidden: 8, residual: 4, latent: 2, downsamplings: 1)
        let enc = ConvEncoder(config: config, params: ps), dec = ConvDecoder(config: config, params: ps)
        XCTAssertEqual(ps.entry(named: "encoder.0.weight")?.shape, [8, 1, 4, 4])
        XCTAssertEqual(ps.entry(named: "encoder.6.weight")?.shape, [2, 8, 1, 1])
        XCTAssertEqual(ps.entry(named: "decoder.4.weight")?.shape, [8, 1, 4, 4])
        let z = enc.forward(Tensor(shape: [1, 3, 6, 10]))   // channel-major [C, B, H, W]
        XCTAssertEqual(z.shape, [2, 3, 3, 5])
        XCTAssertEqual(dec.forward(z).shape, [1, 3, 6, 10])
    }

    /// Same seed → identical parameters; different seed → different.
    func testSeededInit() {
        func make(_ seed: UInt64) -> [Float] {
            let ps = ParameterSet(seed: seed)
            _ = ConvEncoder(config: BackboneConfig(channels: 1, hidden: 4, residual: 2, latent: 2), params: ps)
            return ps.values.values
        }
        XCTAssertEqual(make(3), make(3))
        XCTAssertNotEqual(make(3), make(4))
    }

    /// Whole encoder and decoder (channel-major in/out) vs Double finite differences, n = 2, batch 2, non-square.
    func testEncoderDecoderGradients() {
        let config = BackboneConfig(channels: 2, hidden: 4, residual: 2, latent: 3, downsamplings: 2)
        let ps = ParameterSet(seed: 11)
        let enc = ConvEncoder(config: config, params: ps), dec = ConvDecoder(config: config, params: ps)
        ps.finalize()
        enc.computesInputGradient = true
        let B = 2, H = 8, W = 4, h = 2, w = 1
        var rng = SplitMix64(seed: 12)
        let x = GradCheck.random(2 * B * H * W, &rng)        // [C, B, H, W]
        let z = enc.forward(Tensor(shape: [2, B, H, W], values: x))
        XCTAssertEqual(z.shape, [3, B, h, w])
        let xhat = dec.forward(z)
        XCTAssertEqual(xhat.shape, [2, B, H, W])
        let r = GradCheck.random(xhat.count, &rng)            // L = Σ x̂·R
        ps.zeroGrads()
        let dz = dec.backward(Tensor(shape: xhat.shape, values: r))
        let dx = enc.backward(dz)

        let rD = r.map(Double.init)
        func loss(_ xs: [Double], _ p: [Double]) -> Double {
            let zc = Ref.forward(enc.body, xs, shape: [2, B, H, W], params: p)
            let yc = Ref.forward(dec.body, zc.0, shape: zc.1, params: p)
            return zip(yc.0, rD).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let pD = ps.values.values.map(Double.init), xD = x.map(Double.init)
        // Forward agrees with the composed reference.
        let yRef = Ref.forward(dec.body, Ref.forward(enc.body, xD, shape: [2, B, H, W], params: pD).0, shape: [3, B, h, w], params: pD).0
        XCTAssertLessThanOrEqual(GradCheck.relativeError(xhat.values.map(Double.init), yRef), 1e-4)
        let numX = GradCheck.numeric({ loss($0, pD) }, at: xD)
        XCTAssertLessThanOrEqual(GradCheck.relativeError(dx.values.map(Double.init), numX), 1e-3, "dx")
        for e in ps.entries {
            let idx = GradCheck.sample(e.count, limit: 24).map { $0 + e.offset }
            let num = GradCheck.numeric({ loss(xD, $0) }, at: pD, indices: idx)
            let err = GradCheck.relativeError(idx.map { Double(ps.grads[$0]) }, num)
            XCTAssertLessThanOrEqual(err, 1e-3, "\(e.name): \(err)")
        }
    }
}
