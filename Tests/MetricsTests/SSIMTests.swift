import XCTest
import Kernels
import Foundation
import Datasets
@testable import Metrics

final class SSIMTests: XCTestCase {
    func testIdenticalImagesGiveOne() {
        var rng = SplitMix64(seed: 3)
        let x = ImageBatch(count: 2, channels: 3, height: 16, width: 20, pixels: (0..<1920).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        for v in SSIM.perImage(original: x, reconstruction: x) { XCTAssertEqual(v, 1, accuracy: 1e-12) }
    }

    func testConstantImagesHandComputed() {
        // Flat 100 vs flat 110: variances and covariance vanish, so
        // SSIM = (2·100·110 + C1) / (100² + 110² + C1), C1 = (0.01·255)² = 6.5025.
        let x = ImageBatch(count: 1, channels: 1, height: 12, width: 12, pixels: [UInt8](repeating: 100, count: 144))
        let y = ImageBatch(count: 1, channels: 1, height: 12, width: 12, pixels: [UInt8](repeating: 110, count: 144))
        XCTAssertEqual(SSIM.perImage(original: x, reconstruction: y)[0], 22006.5025 / 22106.5025, accuracy: 1e-12)
    }

    /// Reference values from scikit-image 0.25 `structural_similarity(x, y, data_range=255,
    /// gaussian_weights=True, sigma=1.5, use_sample_covariance=False)`, whose cropped border equals
    /// our valid-window convention.
    func testMatchesScikitImageReference() {
        let H = 16, W = 13
        let x = (0..<(H * W)).map { UInt8(($0 * 37 + 11) % 256) }
        let y = (0..<(H * W)).map { i in UInt8(max(0, min(255, Int(x[i]) + (i * 13) % 21 - 10))) }
        XCTAssertEqual(SSIM.plane(x[...], y[...], height: H, width: W), 0.996673225675762, accuracy: 1e-9)

        let H2 = 20, W2 = 24
        var a = [UInt8](), b = [UInt8]()
        for r in 0..<H2 { for c in 0..<W2 {
            let v = (100 + 50 * sin(Double(r) / 3) + 40 * cos(Double(c) / 4)).rounded()   // numpy rounds half to even; no .5 cases here
            a.append(UInt8(v))
            b.append(UInt8(max(0, min(255, Int(v) + (r * 7 + c * 3) % 9 - 4))))
        } }
        XCTAssertEqual(SSIM.plane(a[...], b[...], height: H2, width: W2), 0.989740134650013, accuracy: 1e-9)
    }
}
