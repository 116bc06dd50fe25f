import XCTest
import Foundation
@testable import Kernels
@testable import Layers
@testable import Tokenizers
import Settings

/// Parity with PyTorch itself (no torch needed at test time) on the model `tokbench run` trains:
/// kind = "vq-vae" with a gradient-trained codebook (ema, kmeans_init, restart off), as bench/pytorch_peer.py
/// builds it. Fixtures/pytorch-parity.safetensors was written by `python3 bench/pytorch_peer.py --export-check PATH`
/// (spec C,h,r,D,n,B,H,W,K = 3,8,4,4,2,2,8,8,16; the torch version is in its metadata). It holds the weights
/// under PyTorch state_dict names, an input x: [2, 3, 8, 8], PyTorch's reconstruction and the gradients of
/// F.mse_loss(x̂, x) + codebook loss + 0.25·commitment loss.
final class PyTorchParityTests: XCTestCase {
    func testLatentTokenizerMatchesPyTorch() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "pytorch-parity", withExtension: "safetensors", subdirectory: "Fixtures"))
        let (tensors, metadata) = try SafeTensors.decode(try Data(contentsOf: url))
        XCTAssertEqual(metadata["config"], "3,8,4,4,2,2,8,8,16")
        let byName = Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0) })
        let config = TokenizerConfig(kind: "vq-vae", values: ["hidden": .int(8), "residual": .int(4), "latent_dim": .int(4), "codebook_size": .int(16),
                                                              "ema": .bool(false), "kmeans_init": .bool(false), "restart": .bool(false)])
        let model = try XCTUnwrap(try TokenizerRegistry.make(config, shape: ImageShape(channels: 3, height: 8, width: 8)) as? LatentTokenizer)
        try model.params.load(tensors)   // every engine name exists in PyTorch's state_dict with the same shape
        let xs = try XCTUnwrap(byName["input"])
        let (B, C, HW) = (xs.shape[0], xs.shape[1], xs.shape[2] * xs.shape[3])
        // NCHW (PyTorch) ↔ channel-major [C, B, H, W] (the engine).
        func toCM(_ v: [Float]) -> [Float] {
            var o = [Float](repeating: 0, count: v.count)
            for b in 0..<B { for c in 0..<C { for p in 0..<HW { o[(c * B + b) * HW + p] = v[(b * C + c) * HW + p] } } }
            return o
        }
        let x = Tensor(shape: [C, B, xs.shape[2], xs.shape[3]], values: toCM(xs.values))
        let xhat = try model.forwardBackward(x, step: 1).xhat
        let ref = try XCTUnwrap(byName["reconstruction"])
        let refCM = toCM(ref.values)
        XCTAssertEqual(xhat.count, refCM.count)
        for i in 0..<refCM.count { XCTAssertEqual(xhat[i], refCM[i], accuracy: 1e-5) }
        var encoderTensors = 0
        for e in model.params.entries {
            let g = try XCTUnwrap(byName["grad." + e.name], e.name).values.map(Double.init)
            let mine = (0..<e.count).map { Double(model.params.grads[e.offset + $0]) }
            XCTAssertLessThanOrEqual(GradCheck.relativeError(mine, g), 1e-4, e.name)
            // The fixture must be able to catch a wrong encoder backward: most entries of every encoder
            // gradient are live and the largest is far above float noise.
            if e.name.hasPrefix("encoder.") {
                encoderTensors += 1
                let peak = g.map(abs).max() ?? 0
                let live = g.filter { abs($0) > 1e-4 * peak }.count
                XCTAssertGreaterThan(peak, 1e-2, "grad.\(e.name) too small to test the backward")
                XCTAssertGreaterThanOrEqual(Double(live) / Double(g.count), 0.5, "grad.\(e.name): only \(live) of \(g.count) entries live")
            }
        }
        XCTAssertEqual(encoderTensors, 16)
        XCTAssertNotNil(byName["grad.quantizer.embedding.weight"])
    }
}
