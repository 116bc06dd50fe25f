import XCTest
import Foundation
@testable import Kernels
@testable import Layers

/// Parity with PyTorch itself (no torch needed at test time): Fixtures/pytorch-parity.safetensors was written
/// by `python3 bench/pytorch_peer.py --export-check PATH` (spec C,h,r,D,n,B,H,W = 3,8,4,4,2,2,8,8; the torch
/// version is in its metadata). It holds the backbone's weights under PyTorch state_dict names, an input
/// x: [2, 3, 8, 8], PyTorch's reconstruction and the gradients of F.mse_loss(x̂, x).
final class PyTorchParityTests: XCTestCase {
    func testBackboneMatchesPyTorch() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "pytorch-parity", withExtension: "safetensors", subdirectory: "Fixtures"))
        let (tensors, metadata) = try SafeTensors.decode(try Data(contentsOf: url))
        XCTAssertEqual(metadata["config"], "3,8,4,4,2,2,8,8")
        let byName = Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0) })
        let model = Autoencoder(config: BackboneConfig(channels: 3, hidden: 8, residual: 4, latent: 4, downsamplings: 2))
        try model.params.load(tensors)   // every engine name exists in PyTorch's state_dict with the same shape
        let xs = try XCTUnwrap(byName["input"])
        let x = Tensor(shape: xs.shape, values: xs.values)
        let xhat = model.reconstruct(x)
        let ref = try XCTUnwrap(byName["reconstruction"])
        XCTAssertEqual(xhat.shape, ref.shape)
        for i in 0..<ref.values.count { XCTAssertEqual(xhat[i], ref.values[i], accuracy: 1e-5) }
        model.params.zeroGrads()
        _ = model.reconstructionLoss.forward(xhat, x)
        model.encoder.backward(model.decoder.backward(model.reconstructionLoss.backward()))
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
    }
}
